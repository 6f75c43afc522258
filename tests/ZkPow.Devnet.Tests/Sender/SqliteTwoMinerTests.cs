using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="TwoMinerTests"/> on SQLite.</summary>
public sealed class SqliteTwoMinerTests() : TwoMinerTests(StoreKind.Sqlite);
