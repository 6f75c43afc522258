namespace ZkPow.Devnet.Tests.Storage;

/// <summary>Which store a test runs on: a SQLite file (the default store) or a database of its own on the test run's
/// throwaway PostgreSQL cluster.</summary>
public enum StoreKind
{
    Sqlite,
    Postgres,
}
