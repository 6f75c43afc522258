using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sync;

/// <summary><see cref="SyncProvingTests"/> on PostgreSQL.</summary>
public sealed class PostgresSyncProvingTests(ChainFixture fixture) : SyncProvingTests(fixture, StoreKind.Postgres);
