using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sync;

/// <summary><see cref="RollupSyncTests"/> on SQLite.</summary>
public sealed class SqliteRollupSyncTests(ChainFixture fixture) : RollupSyncTests(fixture, StoreKind.Sqlite);
