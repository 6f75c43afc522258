using Xunit.Abstractions;
using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary><see cref="TxManagerRpcFaultTests"/> on PostgreSQL.</summary>
public sealed class PostgresTxManagerRpcFaultTests(ChainFixture fixture, ITestOutputHelper output) : TxManagerRpcFaultTests(fixture, StoreKind.Postgres, output);
