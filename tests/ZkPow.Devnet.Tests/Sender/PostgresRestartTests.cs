using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="RestartTests"/> on PostgreSQL.</summary>
public sealed class PostgresRestartTests() : RestartTests(StoreKind.Postgres);
