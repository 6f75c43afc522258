using Xunit.Abstractions;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="OneMinerTests"/> on SQLite.</summary>
public sealed class SqliteOneMinerTests(ITestOutputHelper output) : OneMinerTests(StoreKind.Sqlite, output);
