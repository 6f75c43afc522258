namespace ZkPow.Aggregator.Dashboard;

/// <summary>One of our transactions as the dashboard lists it (fees in wei, as decimal text).</summary>
public sealed record DashboardTx(long Id, string Kind, string Key, ulong? Nonce, string State, string? MaxFee, string? PriorityFee, string? TxHash,
    ulong? BlockNumber, int Replacements, int Rebroadcasts, DateTimeOffset CreatedAt, DateTimeOffset? SentAt);
