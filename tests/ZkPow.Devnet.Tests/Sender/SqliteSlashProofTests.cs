using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="SlashProofTests"/> on SQLite.</summary>
public sealed class SqliteSlashProofTests() : SlashProofTests(StoreKind.Sqlite);
