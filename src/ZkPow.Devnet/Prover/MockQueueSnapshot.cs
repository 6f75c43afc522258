namespace ZkPow.Devnet.Prover;

internal readonly record struct MockQueueSnapshot(
    string? CurrentJobId,
    DateTimeOffset CurrentStartedAt,
    IReadOnlyList<string> PendingJobIds,
    string LastComputedJobId,
    DateTimeOffset LastComputedEnd);
