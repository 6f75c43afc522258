using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sync;

/// <summary><see cref="SyncProvingTests"/> on SQLite.</summary>
public sealed class SqliteSyncProvingTests(ChainFixture fixture) : SyncProvingTests(fixture, StoreKind.Sqlite);
