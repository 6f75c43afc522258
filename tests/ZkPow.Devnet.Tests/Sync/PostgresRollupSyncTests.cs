using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sync;

/// <summary><see cref="RollupSyncTests"/> on PostgreSQL.</summary>
public sealed class PostgresRollupSyncTests(ChainFixture fixture) : RollupSyncTests(fixture, StoreKind.Postgres);
