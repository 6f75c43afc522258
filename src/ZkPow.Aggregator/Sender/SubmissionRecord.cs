namespace ZkPow.Aggregator.Sender;

/// <summary>Our submission state for one sequence (<see cref="InitBatch"/>, <see cref="FinalBatch"/>], as stored.</summary>
public sealed record SubmissionRecord
{
    public required ulong FinalBatch { get; init; }
    public required ulong InitBatch { get; init; }
    public required SubmissionState State { get; init; }

    /// <summary>Attempt number of the current <c>submitProofHash</c> tx key; bumped for every new commitment.</summary>
    public int HashAttempt { get; init; }

    /// <summary>Attempt number of the current <c>verifyBatches</c> tx key; bumped when a reveal must be sent again.</summary>
    public int ProofAttempt { get; init; }

    /// <summary>The round our hash was committed in (the contract's round start), once known.</summary>
    public ulong? RoundStart { get; init; }

    /// <summary>The hash we committed (or are committing).</summary>
    public byte[]? ProofHash { get; init; }

    /// <summary>Failed goes so far (resends and re-proofs); bounded by <see cref="SenderOptions.MaxRetries"/>.</summary>
    public int Retries { get; init; }

    public string? ParkedReason { get; init; }
    public string? LastError { get; init; }

    public string HashTxKey => Chain.TxRequest.KeyFor("submitProofHash", FinalBatch, HashAttempt);

    public string ProofTxKey => Chain.TxRequest.KeyFor("verifyBatches", FinalBatch, ProofAttempt);

    public bool IsTerminal => State is SubmissionState.Revealed or SubmissionState.Lost or SubmissionState.Parked or SubmissionState.Slashed;
}
