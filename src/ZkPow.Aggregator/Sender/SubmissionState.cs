namespace ZkPow.Aggregator.Sender;

/// <summary>Where our two-step submission of one sequence stands. The numbers are stored: never renumber.</summary>
public enum SubmissionState
{
    /// <summary>A final proof is stored and handed to the sender; no hash sent yet (or waiting for the commit policy).</summary>
    Queued = 0,

    /// <summary><c>submitProofHash</c> handed to the tx manager (key <c>submitProofHash/final/HashAttempt</c>).</summary>
    Committing = 1,

    /// <summary>Our hash is on chain in round <see cref="SubmissionRecord.RoundStart"/>; the reveal waits for its window.</summary>
    Committed = 2,

    /// <summary><c>verifyBatches</c> handed to the tx manager (key <c>verifyBatches/final/ProofAttempt</c>).</summary>
    Revealing = 3,

    /// <summary>Our proof was accepted on chain (terminal).</summary>
    Revealed = 4,

    /// <summary>Needs another go in a new round (hash window missed, round expired with no proof, tx failed).</summary>
    Resend = 5,

    /// <summary>The final proof was rejected before commit; the generator proves the sequence again.</summary>
    Reproving = 6,

    /// <summary>Verified by another miner before we committed: nothing to earn (terminal).</summary>
    Lost = 7,

    /// <summary>Too many failed attempts: left for an operator (terminal until requeued).</summary>
    Parked = 8,

    /// <summary>Our commitment was slashed (left unrevealed past its round, or a wrong reveal): nothing more can be done
    /// for it (terminal).</summary>
    Slashed = 9,
}
