using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Dashboard;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Tests.Dashboard;

/// <summary>Where the dashboard puts a sequence in its pipeline, from what the sync, the generator and the sender stored.</summary>
public sealed class DashboardSequenceTests
{
    private const string Us = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    private static readonly DashboardSequenceRow s_synced = new() { FinalBatch = 9, InitBatch = 7, SequencedBlock = 100, SyncStatus = SyncSequenceStatus.Accepted };

    public static TheoryData<string, DashboardSequenceRow> Rows() => new()
    {
        { "synced", s_synced },
        { "proving", s_synced with { GeneratorState = 0, TasksTotal = 3, TasksDone = 1 } },
        { "proved", s_synced with { GeneratorState = 1, HasFinalProof = true } },
        { "proved", s_synced with { GeneratorState = 1, HasFinalProof = true, Submission = SubmissionState.Queued } },
        { "proving", s_synced with { GeneratorState = 0, Submission = SubmissionState.Reproving } },
        { "committed", s_synced with { HasFinalProof = true, Submission = SubmissionState.Committed, RoundStart = 120 } },
        { "committed", s_synced with { HasFinalProof = true, Submission = SubmissionState.Resend } },
        { "revealed", s_synced with { HasFinalProof = true, Submission = SubmissionState.Revealed, RoundStart = 120 } },
        { "verified", s_synced with { Submission = SubmissionState.Revealed, VerifiedBy = Us.ToLowerInvariant(), VerifiedBlock = 128 } },
        { "lost", s_synced with { Submission = SubmissionState.Committed, VerifiedBy = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc" } },
        { "lost", s_synced with { SyncStatus = SyncSequenceStatus.Lost } },
        { "parked", s_synced with { GeneratorState = 0, TasksParked = 1 } },
        { "parked", s_synced with { HasFinalProof = true, Submission = SubmissionState.Parked, ParkedReason = "rejected" } },
        { "slashed", s_synced with { Submission = SubmissionState.Slashed } },
        { "refused", s_synced with { SyncStatus = SyncSequenceStatus.Refused } },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void each_stored_state_has_its_stage(string stage, DashboardSequenceRow row)
    {
        var sequence = DashboardSequence.From(row, Us, new ProofWindows(5, 10));
        Assert.Equal(stage, sequence.Stage);
        Assert.Contains(stage, DashboardSequence.Stages);
    }

    [Fact]
    public void the_round_s_windows_are_drawn_from_its_start()
    {
        var sequence = DashboardSequence.From(s_synced with { Submission = SubmissionState.Committed, RoundStart = 120 }, Us, new ProofWindows(5, 10));
        Assert.Equal((120UL, 125UL, 135UL), (sequence.RoundStart!.Value, sequence.HashWindowEnd!.Value, sequence.ProofWindowEnd!.Value));

        var unknown = DashboardSequence.From(s_synced with { Submission = SubmissionState.Committed, RoundStart = 120 }, Us, windows: null);
        Assert.Null(unknown.HashWindowEnd);
        Assert.Null(DashboardSequence.From(s_synced, Us, new ProofWindows(5, 10)).RoundStart);
    }
}
