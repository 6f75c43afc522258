using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Sender;

/// <summary>What the Proof Manager and Proof Sender need from durable storage: our submission state per sequence and
/// the stored final proofs.</summary>
public interface ISubmissionStore
{
    Task<FinalProofRecord?> GetFinalProofAsync(ulong finalBatch, CancellationToken cancellationToken);

    Task<SubmissionRecord?> GetSubmissionAsync(ulong finalBatch, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces the row of <see cref="SubmissionRecord.FinalBatch"/>.</summary>
    Task SaveSubmissionAsync(SubmissionRecord record, CancellationToken cancellationToken);

    /// <summary>Submissions that are not terminal, lowest sequence first.</summary>
    Task<IReadOnlyList<SubmissionRecord>> ListOpenSubmissionsAsync(CancellationToken cancellationToken);

    /// <summary>Revealed submissions of sequences ending above <paramref name="batch"/>, lowest first (to re-check
    /// against the chain: a reorg can take a reveal away).</summary>
    Task<IReadOnlyList<SubmissionRecord>> ListRevealedAboveAsync(ulong batch, CancellationToken cancellationToken);

    /// <summary>Keeps <paramref name="proof"/> as the proof behind our commitment <paramref name="proofHash"/> (before the
    /// hash tx is submitted). A proof kept under a hash is never replaced: a new proof of the sequence gets its own row.</summary>
    Task SaveCommittedProofAsync(byte[] proofHash, FinalProofRecord proof, CancellationToken cancellationToken);

    /// <summary>The proof we committed under <paramref name="proofHash"/> for <paramref name="finalBatch"/>, or null.</summary>
    Task<FinalProofRecord?> GetCommittedProofAsync(ulong finalBatch, byte[] proofHash, CancellationToken cancellationToken);

    /// <summary>Final batches of stored final proofs that are not handed to the sender yet (no submission, or a
    /// submission waiting for a new proof), lowest first.</summary>
    Task<IReadOnlyList<ulong>> ListUnsentFinalProofsAsync(CancellationToken cancellationToken);

    /// <summary>Sequences the sender parked (<see cref="SubmissionState.Parked"/>), lowest first, with the prover of the
    /// proof they were parked with.</summary>
    Task<IReadOnlyList<SenderParkedSequence>> ListSenderParkedAsync(CancellationToken cancellationToken);
}
