namespace ZkPow.Devnet.Network;

/// <summary>A devnet miner: its address and where its aggregator keeps its store (a SQLite file, or a PostgreSQL
/// database when <see cref="ConnectionString"/> is set).</summary>
public sealed record DevnetMinerInfo(string Address, string StorePath)
{
    /// <summary>The PostgreSQL store's connection string, or null for SQLite (<see cref="StorePath"/>).</summary>
    public string? ConnectionString { get; init; }
}
