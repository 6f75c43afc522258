using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="DrainTests"/> on PostgreSQL.</summary>
public sealed class PostgresDrainTests() : DrainTests(StoreKind.Postgres);
