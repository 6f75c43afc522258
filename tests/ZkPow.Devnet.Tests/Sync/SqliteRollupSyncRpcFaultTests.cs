using Xunit.Abstractions;
using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sync;

/// <summary><see cref="RollupSyncRpcFaultTests"/> on SQLite.</summary>
public sealed class SqliteRollupSyncRpcFaultTests(ChainFixture fixture, ITestOutputHelper output) : RollupSyncRpcFaultTests(fixture, StoreKind.Sqlite, output);
