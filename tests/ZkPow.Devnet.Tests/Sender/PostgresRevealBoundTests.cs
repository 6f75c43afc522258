using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="RevealBoundTests"/> on PostgreSQL.</summary>
public sealed class PostgresRevealBoundTests() : RevealBoundTests(StoreKind.Postgres);
