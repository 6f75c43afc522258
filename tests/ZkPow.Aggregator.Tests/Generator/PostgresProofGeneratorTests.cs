using ZkPow.Aggregator.Tests.Storage;

namespace ZkPow.Aggregator.Tests.Generator;

/// <summary><see cref="ProofGeneratorTests"/> on PostgreSQL.</summary>
public sealed class PostgresProofGeneratorTests() : ProofGeneratorTests(new PostgresTarget());
