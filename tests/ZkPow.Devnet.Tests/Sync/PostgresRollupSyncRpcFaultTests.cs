using Xunit.Abstractions;
using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sync;

/// <summary><see cref="RollupSyncRpcFaultTests"/> on PostgreSQL.</summary>
public sealed class PostgresRollupSyncRpcFaultTests(ChainFixture fixture, ITestOutputHelper output) : RollupSyncRpcFaultTests(fixture, StoreKind.Postgres, output);
