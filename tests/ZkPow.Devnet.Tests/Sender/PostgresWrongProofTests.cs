using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="WrongProofTests"/> on PostgreSQL.</summary>
public sealed class PostgresWrongProofTests() : WrongProofTests(StoreKind.Postgres);
