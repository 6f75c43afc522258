namespace ZkPow.Aggregator.Dashboard;

/// <summary>A reward paid to us or a slash of ours, as recorded by the sync: kind <c>reward</c> or <c>slash</c>, amount in wei.</summary>
public sealed record DashboardEarning(ulong Block, string Kind, ulong? FinalBatch, string AmountWei);
