namespace ZkPow.Aggregator.Tests.Storage;

/// <summary>The submission store on PostgreSQL.</summary>
public sealed class PostgresSubmissionStoreTests() : SubmissionStoreTests(new PostgresTarget());
