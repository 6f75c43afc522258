namespace ZkPow.Aggregator.Leadership;

/// <summary>One period during which this replica leads: its fencing token, and a token cancelled the moment it steps down.</summary>
public sealed record LeaderTerm(long Token, CancellationToken Ended);
