using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Dashboard;

/// <summary>
/// A sequence on the dashboard: its stage in the pipeline (<c>synced → proving → proved → committed → revealed →
/// verified</c>, or <c>lost</c>, <c>parked</c>, <c>slashed</c>, <c>refused</c>) and its round's windows in blocks (hash
/// window up to <see cref="HashWindowEnd"/>, proof window up to <see cref="ProofWindowEnd"/>).
/// </summary>
public sealed record DashboardSequence(
    ulong FinalBatch,
    ulong InitBatch,
    string Stage,
    ulong SequencedBlock,
    int TasksTotal,
    int TasksDone,
    int TasksParked,
    string? Submission,
    ulong? RoundStart,
    ulong? HashWindowEnd,
    ulong? ProofWindowEnd,
    string? VerifiedBy,
    ulong? VerifiedBlock,
    int Committers,
    int Retries,
    string? Note)
{
    public static readonly IReadOnlyList<string> Stages =
        ["synced", "proving", "proved", "committed", "revealed", "verified", "lost", "parked", "slashed", "refused"];

    public static DashboardSequence From(DashboardSequenceRow row, string ourAddress, ProofWindows? windows)
    {
        ArgumentNullException.ThrowIfNull(row);
        var ours = string.Equals(row.VerifiedBy, ourAddress, StringComparison.OrdinalIgnoreCase);
        var stage = (row, ours) switch
        {
            (_, true) => "verified",
            ({ Submission: SubmissionState.Slashed }, _) => "slashed",
            ({ Submission: SubmissionState.Parked }, _) or ({ TasksParked: > 0 }, _) => "parked",
            ({ Submission: SubmissionState.Lost }, _) or ({ SyncStatus: SyncSequenceStatus.Lost }, _) or ({ VerifiedBy: not null }, _) => "lost",
            ({ SyncStatus: SyncSequenceStatus.Refused }, _) => "refused",
            ({ Submission: SubmissionState.Revealing or SubmissionState.Revealed }, _) => "revealed",
            ({ Submission: SubmissionState.Committing or SubmissionState.Committed or SubmissionState.Resend }, _) => "committed",
            ({ Submission: SubmissionState.Reproving }, _) => "proving",
            ({ HasFinalProof: true }, _) or ({ Submission: SubmissionState.Queued }, _) or ({ GeneratorState: 1 }, _) => "proved",
            ({ GeneratorState: not null }, _) => "proving",
            _ => "synced",
        };
        var round = row.RoundStart is > 0 ? row.RoundStart : null;
        var note = row.ParkedReason ?? row.LastError ?? row.SyncReason;
        return new DashboardSequence(row.FinalBatch, row.InitBatch, stage, row.SequencedBlock, row.TasksTotal, row.TasksDone, row.TasksParked,
            row.Submission?.ToString(), round, round is { } r1 && windows is { } w1 ? r1 + w1.T1 : null,
            round is { } r2 && windows is { } w2 ? w2.ProofWindowEnd(r2) : null, row.VerifiedBy, row.VerifiedBlock, row.Committers, row.Retries, note);
    }
}
