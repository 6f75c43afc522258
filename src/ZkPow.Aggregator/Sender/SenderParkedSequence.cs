namespace ZkPow.Aggregator.Sender;

/// <summary>A sequence the sender parked (its final proof rejected too often, or its submission failed too often), as
/// operators see it.</summary>
/// <param name="FinalBatch">The sequence's last batch (its key).</param>
/// <param name="InitBatch">The batch before the sequence.</param>
/// <param name="Reason">Why it was parked.</param>
/// <param name="LastError">The last error recorded for it.</param>
/// <param name="Retries">Failed goes counted so far.</param>
/// <param name="Prover">The prover of the proof it was parked with (the committed proof, else the stored final proof),
/// when known.</param>
/// <param name="ParkedAt">When the record was last written (when it was parked).</param>
public sealed record SenderParkedSequence(ulong FinalBatch, ulong InitBatch, string? Reason, string? LastError, int Retries, string? Prover,
    DateTimeOffset ParkedAt)
{
    /// <summary>True when the sequence was parked because its final proofs kept failing the check: a requeue proves it
    /// again; otherwise a requeue offers it to the sender again.</summary>
    public bool ProofRejected => Reason?.StartsWith(ProofSender.RejectedParkReason, StringComparison.Ordinal) == true;
}
