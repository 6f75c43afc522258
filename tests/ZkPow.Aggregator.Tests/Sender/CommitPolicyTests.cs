using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sender;

namespace ZkPow.Aggregator.Tests.Sender;

public sealed class CommitPolicyTests
{
    private static readonly ProofWindows Windows = new(5, 10);

    // Sequence (10, 20]; head 100 unless stated; predecessor rounds are ours, lowest first.
    public static TheoryData<string, ulong, ulong, ulong, bool, ulong?[], CommitDecision> Cases => new()
    {
        { "verified already", 100, 20, 0, false, [], CommitDecision.Verified },
        { "proof landed", 100, 10, 95, true, [], CommitDecision.Verified },
        { "no round, predecessor verified", 100, 10, 0, false, [], CommitDecision.Commit },
        { "round open, inside T1", 100, 10, 96, false, [], CommitDecision.Commit },
        { "round open, lands on the last hash block", 100, 10, 96, false, [], CommitDecision.Commit },
        { "hash window closed", 100, 10, 95, false, [], CommitDecision.WindowClosed },
        { "round expired with no proof: a new round", 100, 10, 80, false, [], CommitDecision.Commit },
        { "round at its last block is not expired", 100, 10, 86, false, [], CommitDecision.WindowClosed },
        { "predecessor not committed by us", 100, 5, 0, false, [null], CommitDecision.WaitForPredecessor },
        { "predecessor committed, window open soon", 100, 5, 0, false, [98], CommitDecision.Commit },
        { "predecessor committed long ago, window open", 100, 5, 0, false, [94], CommitDecision.Commit },
        { "predecessor's round already over", 100, 5, 0, false, [80], CommitDecision.WaitForPredecessor },
        { "a chain of three reveals fits our round", 100, 5, 96, false, [100, 100, 100], CommitDecision.Commit },
        { "a chain of four reveals ends past our round", 100, 5, 96, false, [100, 100, 100, 100], CommitDecision.WaitForPredecessor },
        { "two predecessors of ours in a chain", 100, 0, 0, false, [97, 99], CommitDecision.Commit },
        { "a gap in the chain of predecessors", 100, 0, 0, false, [97, null], CommitDecision.WaitForPredecessor },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void decides(string why, ulong head, ulong lastVerified, ulong roundStart, bool proofSubmitted, ulong?[] predecessors, CommitDecision expected)
    {
        var inputs = new CommitInputs(head, Windows, lastVerified, 10, 20, roundStart, proofSubmitted, predecessors);
        Assert.True(expected == CommitPolicy.Decide(inputs, new SenderOptions()), why);
    }

    [Fact]
    public void a_chain_of_reveals_that_fits_when_reveals_take_one_block_is_not_committed_after_when_they_take_several()
    {
        // Windows 5 + 10; our round would start at 101; two predecessors of ours committed at 100.
        var quick = new CommitInputs(100, Windows, 0, 10, 20, 0, false, [100, 100], RevealBlocks: 1);
        var slow = quick with { RevealBlocks = 4 };

        Assert.Equal(CommitDecision.Commit, CommitPolicy.Decide(quick, new SenderOptions()));
        Assert.Equal(CommitDecision.WaitForPredecessor, CommitPolicy.Decide(slow, new SenderOptions()));
        Assert.Equal(CommitDecision.Commit, CommitPolicy.Decide(slow with { LastVerifiedBatch = 10 }, new SenderOptions()));
    }

    [Fact]
    public void finding5_a_predecessor_whose_estimated_reveal_falls_on_its_round_s_last_block_is_not_committed_after()
    {
        // The predecessor's round started at 86 and ends at 101; its reveal is due at 101 at the earliest: one block of
        // slip expires it (and with it the round we would join). The margin applies to it as to our own reveal.
        var inputs = new CommitInputs(100, Windows, 5, 10, 20, 0, false, [86]);
        Assert.Equal(CommitDecision.WaitForPredecessor, CommitPolicy.Decide(inputs, new SenderOptions()));
        Assert.Equal(CommitDecision.WaitForPredecessor, CommitPolicy.Decide(inputs with { UnverifiedPredecessorRounds = [87] }, new SenderOptions()));
        Assert.Equal(CommitDecision.Commit, CommitPolicy.Decide(inputs with { UnverifiedPredecessorRounds = [88] }, new SenderOptions()));
        Assert.Equal(CommitDecision.Commit, CommitPolicy.Decide(inputs, new SenderOptions { CommitAheadMarginBlocks = 0 }));
    }

    [Theory]
    [InlineData(83, 0, false)] // round 83, proof window 88..98 (T1 5, T2 10): a tx sent at 83 lands at 84, well inside
    [InlineData(97, 0, false)] // lands at 98, the round's last block: the commitment can still be revealed in it
    [InlineData(98, 0, true)] // lands at 99 at the earliest: past the end
    [InlineData(97, 1, true)] // one block of slip: may land at 99
    [InlineData(96, 1, false)]
    public void finding2_a_commitment_is_overdue_once_the_landing_block_is_past_its_round_end(ulong head, int slack, bool overdue) =>
        Assert.Equal(overdue, CommitPolicy.IsOverdue(head, 83, Windows, slack));

    [Fact]
    public void committing_ahead_can_be_switched_off()
    {
        var inputs = new CommitInputs(100, Windows, 5, 10, 20, 0, false, [98]);
        Assert.Equal(CommitDecision.WaitForPredecessor, CommitPolicy.Decide(inputs, new SenderOptions { CommitAhead = false }));
    }

    [Fact]
    public void a_change_of_the_windows_changes_the_decision()
    {
        var inputs = new CommitInputs(100, Windows, 10, 10, 20, 95, false, []);
        Assert.Equal(CommitDecision.WindowClosed, CommitPolicy.Decide(inputs, new SenderOptions()));
        Assert.Equal(CommitDecision.Commit, CommitPolicy.Decide(inputs with { Windows = new ProofWindows(8, 10) }, new SenderOptions()));
    }

    [Theory]
    [InlineData("Sender:PollInterval")]
    [InlineData("Sender:ResendInterval")]
    [InlineData("Sender:MaxRetries")]
    [InlineData("Sender:MaxRevealAttempts")]
    [InlineData("Sender:CommitAheadMarginBlocks")]
    [InlineData("Sender:LandingSlackBlocks")]
    [InlineData("Sender:UrgentRevealBlocks")]
    [InlineData("Sender:CommitmentMissingBlocks")]
    [InlineData("Sender:RecoveryLookbackRounds")]
    public void invalid_options_name_their_key(string key)
    {
        var options = new SenderOptions();
        switch (key)
        {
            case "Sender:PollInterval": options.PollInterval = TimeSpan.Zero; break;
            case "Sender:ResendInterval": options.ResendInterval = TimeSpan.FromHours(1); break;
            case "Sender:MaxRetries": options.MaxRetries = 0; break;
            case "Sender:MaxRevealAttempts": options.MaxRevealAttempts = 0; break;
            case "Sender:LandingSlackBlocks": options.LandingSlackBlocks = 65; break;
            case "Sender:UrgentRevealBlocks": options.UrgentRevealBlocks = -1; break;
            case "Sender:CommitmentMissingBlocks": options.CommitmentMissingBlocks = 0; break;
            case "Sender:RecoveryLookbackRounds": options.RecoveryLookbackRounds = 0; break;
            default: options.CommitAheadMarginBlocks = -1; break;
        }

        Assert.Equal(key, Assert.Throws<OptionsException>(options.Validate).Key);
    }
}
