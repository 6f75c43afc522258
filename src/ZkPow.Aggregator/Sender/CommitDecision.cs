namespace ZkPow.Aggregator.Sender;

/// <summary>What the commit policy says about committing a sequence's proof hash now.</summary>
public enum CommitDecision
{
    /// <summary>Send <c>submitProofHash</c> now.</summary>
    Commit = 0,

    /// <summary>Not yet: the predecessor is not verified and not certain to be in time for the round we would join.
    /// Ask again on a later block.</summary>
    WaitForPredecessor = 1,

    /// <summary>The round's hash window is closed (more than T1 blocks since its start, no proof yet): hand the
    /// sequence to processResend, which commits in the next round if this one expires without a proof.</summary>
    WindowClosed = 2,

    /// <summary>The sequence is verified already: nothing to earn by committing now.</summary>
    Verified = 3,
}
