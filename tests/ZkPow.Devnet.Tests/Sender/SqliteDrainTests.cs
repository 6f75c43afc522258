using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="DrainTests"/> on SQLite.</summary>
public sealed class SqliteDrainTests() : DrainTests(StoreKind.Sqlite);
