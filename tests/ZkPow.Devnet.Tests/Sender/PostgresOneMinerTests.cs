using Xunit.Abstractions;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="OneMinerTests"/> on PostgreSQL.</summary>
public sealed class PostgresOneMinerTests(ITestOutputHelper output) : OneMinerTests(StoreKind.Postgres, output);
