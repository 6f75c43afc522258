using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="LostStoreTests"/> on PostgreSQL.</summary>
public sealed class PostgresLostStoreTests() : LostStoreTests(StoreKind.Postgres);
