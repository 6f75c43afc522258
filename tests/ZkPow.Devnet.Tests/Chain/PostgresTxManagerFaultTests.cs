using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary><see cref="TxManagerFaultTests"/> on PostgreSQL.</summary>
public sealed class PostgresTxManagerFaultTests(ChainFixture fixture) : TxManagerFaultTests(fixture, StoreKind.Postgres);
