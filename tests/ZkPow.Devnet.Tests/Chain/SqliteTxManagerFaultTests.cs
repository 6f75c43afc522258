using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary><see cref="TxManagerFaultTests"/> on SQLite.</summary>
public sealed class SqliteTxManagerFaultTests(ChainFixture fixture) : TxManagerFaultTests(fixture, StoreKind.Sqlite);
