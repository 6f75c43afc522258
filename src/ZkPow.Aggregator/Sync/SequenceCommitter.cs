namespace ZkPow.Aggregator.Sync;

/// <summary>A miner that committed a proof hash for a sequence; <see cref="Ours"/> marks our own address.</summary>
public sealed record SequenceCommitter(string Account, ulong BlockNumber, bool Ours);
