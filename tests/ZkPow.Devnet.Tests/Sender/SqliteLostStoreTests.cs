using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="LostStoreTests"/> on SQLite.</summary>
public sealed class SqliteLostStoreTests() : LostStoreTests(StoreKind.Sqlite);
