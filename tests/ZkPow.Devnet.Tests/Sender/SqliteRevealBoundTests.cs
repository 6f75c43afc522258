using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="RevealBoundTests"/> on SQLite.</summary>
public sealed class SqliteRevealBoundTests() : RevealBoundTests(StoreKind.Sqlite);
