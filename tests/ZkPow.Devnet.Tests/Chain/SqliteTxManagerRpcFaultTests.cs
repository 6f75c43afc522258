using Xunit.Abstractions;
using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary><see cref="TxManagerRpcFaultTests"/> on SQLite.</summary>
public sealed class SqliteTxManagerRpcFaultTests(ChainFixture fixture, ITestOutputHelper output) : TxManagerRpcFaultTests(fixture, StoreKind.Sqlite, output);
