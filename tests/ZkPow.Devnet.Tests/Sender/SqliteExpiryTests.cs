using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="ExpiryTests"/> on SQLite.</summary>
public sealed class SqliteExpiryTests() : ExpiryTests(StoreKind.Sqlite);
