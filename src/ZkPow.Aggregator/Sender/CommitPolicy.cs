using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Sender;

/// <summary>
/// When the sender may commit a proof hash. Committing joins (or opens) a round that ends T1 + T2 blocks after its
/// start; a commitment that cannot be revealed by then is slashed, and a reveal needs the predecessor sequence
/// verified. So:
/// <list type="number">
/// <item>A verified sequence is not committed (<see cref="CommitDecision.Verified"/>).</item>
/// <item>The hash tx lands at the earliest in block <c>head + 1</c>. The round we would join starts at the sequence's
/// round start, or at <c>head + 1</c> if there is no round yet or the round expired with no proof (the contract resets
/// it). If <c>head + 1 - start &gt; T1</c> the hash window is closed (<see cref="CommitDecision.WindowClosed"/>).</item>
/// <item>If the predecessor is verified, commit.</item>
/// <item>Otherwise commit ahead only if every unverified sequence before this one is committed <b>by us</b> on chain
/// (another miner's commitment is no promise) and the chain of reveals finishes in time: walking from the lowest,
/// sequence i can be revealed at <c>v_i = max(v_{i-1}, start_i + T1) + r</c> (its window, then r blocks after
/// its predecessor's reveal, r = <see cref="CommitInputs.RevealBlocks"/>: 1 when the node answers at once, more when it
/// fails or stalls), each within its own round (with the margin, below), and ours at
/// <c>max(v_pred, start + T1) + r + margin ≤ start + T1 + T2</c>, and each predecessor's <c>v_i + margin ≤ start_i + T1 + T2</c>,
/// where <c>margin</c> is
/// <see cref="SenderOptions.CommitAheadMarginBlocks"/>. Else wait and ask again on a later block
/// (<see cref="CommitDecision.WaitForPredecessor"/>).</item>
/// </list>
/// </summary>
public static class CommitPolicy
{
    public static CommitDecision Decide(CommitInputs inputs, SenderOptions options)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(options);
        if (inputs.LastVerifiedBatch >= inputs.FinalBatch || inputs.ProofSubmitted)
        {
            return CommitDecision.Verified;
        }

        var t1 = (ulong)inputs.Windows.T1;
        var t2 = (ulong)inputs.Windows.T2;
        var landing = inputs.Head + 1;
        var expired = inputs.RoundStart != 0 && landing - inputs.RoundStart > t1 + t2;
        var start = inputs.RoundStart == 0 || expired ? landing : inputs.RoundStart;
        if (landing - start > t1)
        {
            return CommitDecision.WindowClosed;
        }

        if (inputs.LastVerifiedBatch >= inputs.InitBatch)
        {
            return CommitDecision.Commit;
        }

        if (!options.CommitAhead || inputs.UnverifiedPredecessorRounds.Count == 0)
        {
            return CommitDecision.WaitForPredecessor;
        }

        // The earliest block in which each unverified predecessor can be verified by our own reveal; each must fit its
        // own round with the margin to spare (one block of slip must not expire it and everything committed after it).
        var margin = (ulong)options.CommitAheadMarginBlocks;
        var reveal = (ulong)Math.Max(1, inputs.RevealBlocks);
        var verifiedBy = inputs.Head;
        foreach (var round in inputs.UnverifiedPredecessorRounds)
        {
            if (round is not { } predecessorStart || predecessorStart == 0)
            {
                return CommitDecision.WaitForPredecessor;
            }

            verifiedBy = Math.Max(verifiedBy, predecessorStart + t1) + reveal;
            if (verifiedBy + margin > predecessorStart + t1 + t2)
            {
                return CommitDecision.WaitForPredecessor;
            }
        }

        var ourReveal = Math.Max(verifiedBy, start + t1) + reveal + margin;
        return ourReveal <= start + t1 + t2 ? CommitDecision.Commit : CommitDecision.WaitForPredecessor;
    }

    /// <summary>Whether a commitment of ours in the round that started at <paramref name="roundStart"/> is overdue for a
    /// tx sent at <paramref name="head"/>: the tx lands at <c>head + 1</c> at the earliest, and up to
    /// <paramref name="slackBlocks"/> later; if that landing block is past the round's last block, a new hash of ours
    /// would settle the commitment's slash (so it is revealed first).</summary>
    public static bool IsOverdue(ulong head, ulong roundStart, ProofWindows windows, int slackBlocks) =>
        head + 1 + (ulong)Math.Max(0, slackBlocks) > windows.ProofWindowEnd(roundStart);
}
