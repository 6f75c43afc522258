using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary><see cref="TxManagerTests"/> on SQLite.</summary>
public sealed class SqliteTxManagerTests(ChainFixture fixture) : TxManagerTests(fixture, StoreKind.Sqlite);
