using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary><see cref="TxManagerTests"/> on PostgreSQL.</summary>
public sealed class PostgresTxManagerTests(ChainFixture fixture) : TxManagerTests(fixture, StoreKind.Postgres);
