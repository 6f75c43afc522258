using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="WrongProofTests"/> on SQLite.</summary>
public sealed class SqliteWrongProofTests() : WrongProofTests(StoreKind.Sqlite);
