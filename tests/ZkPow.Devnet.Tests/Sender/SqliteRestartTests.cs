using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="RestartTests"/> on SQLite.</summary>
public sealed class SqliteRestartTests() : RestartTests(StoreKind.Sqlite);
