using ZkPow.Aggregator.Tests.Storage;

namespace ZkPow.Aggregator.Tests.Generator;

/// <summary><see cref="ProofGeneratorTests"/> on SQLite.</summary>
public sealed class SqliteProofGeneratorTests() : ProofGeneratorTests(new SqliteTarget());
