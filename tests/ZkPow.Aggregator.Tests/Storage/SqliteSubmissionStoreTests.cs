namespace ZkPow.Aggregator.Tests.Storage;

/// <summary>The submission store on SQLite.</summary>
public sealed class SqliteSubmissionStoreTests() : SubmissionStoreTests(new SqliteTarget());
