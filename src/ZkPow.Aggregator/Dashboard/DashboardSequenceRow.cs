using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Dashboard;

/// <summary>One synced sequence with what the generator, the sender and the recorded rollup events know of it.</summary>
public sealed record DashboardSequenceRow
{
    public required ulong FinalBatch { get; init; }
    public required ulong InitBatch { get; init; }

    /// <summary>The base-chain block the sequence was sequenced in.</summary>
    public required ulong SequencedBlock { get; init; }
    public required SyncSequenceStatus SyncStatus { get; init; }
    public string? SyncReason { get; init; }

    /// <summary>The generator's state of the sequence (0 proving, 1 final proof stored, 2 inputs discarded, 3 abandoned); null if not handed to it.</summary>
    public int? GeneratorState { get; init; }
    public int TasksTotal { get; init; }
    public int TasksDone { get; init; }
    public int TasksParked { get; init; }
    public bool HasFinalProof { get; init; }
    public SubmissionState? Submission { get; init; }

    /// <summary>Our round's start (from our submission, else the last recorded commitment's round).</summary>
    public ulong? RoundStart { get; init; }
    public int Retries { get; init; }
    public string? ParkedReason { get; init; }
    public string? LastError { get; init; }
    public string? VerifiedBy { get; init; }
    public ulong? VerifiedBlock { get; init; }
    public int Committers { get; init; }
}
