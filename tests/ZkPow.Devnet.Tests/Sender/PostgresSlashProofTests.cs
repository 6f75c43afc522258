using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="SlashProofTests"/> on PostgreSQL.</summary>
public sealed class PostgresSlashProofTests() : SlashProofTests(StoreKind.Postgres);
