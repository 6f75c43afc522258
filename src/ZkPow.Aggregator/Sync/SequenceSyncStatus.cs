namespace ZkPow.Aggregator.Sync;

/// <summary>What status and priority need to know about one synced sequence (from the confirmed view of the chain).</summary>
public sealed record SequenceSyncStatus(
    ulong FinalBatch,
    ulong InitBatch,
    SyncSequenceStatus Status,
    string? Reason,
    string? VerifiedBy,
    ulong RoundStart,
    IReadOnlyList<SequenceCommitter> Committers)
{
    public bool Verified => VerifiedBy is not null;

    public bool LostToCompetition => Status == SyncSequenceStatus.Lost;

    public bool Refused => Status == SyncSequenceStatus.Refused;
}
