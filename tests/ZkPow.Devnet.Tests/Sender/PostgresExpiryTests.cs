using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="ExpiryTests"/> on PostgreSQL.</summary>
public sealed class PostgresExpiryTests() : ExpiryTests(StoreKind.Postgres);
