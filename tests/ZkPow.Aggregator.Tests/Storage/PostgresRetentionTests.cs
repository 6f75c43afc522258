namespace ZkPow.Aggregator.Tests.Storage;

/// <summary>Retention on PostgreSQL.</summary>
public sealed class PostgresRetentionTests() : RetentionTests(new PostgresTarget());
