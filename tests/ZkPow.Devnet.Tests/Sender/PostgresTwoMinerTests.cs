using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="TwoMinerTests"/> on PostgreSQL.</summary>
public sealed class PostgresTwoMinerTests() : TwoMinerTests(StoreKind.Postgres);
