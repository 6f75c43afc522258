namespace ZkPow.Aggregator.Sender;

/// <summary>Sends a sequence back to the generator for a new final proof.</summary>
public interface ISequenceReprover
{
    /// <summary>Proves the sequence again from its batches. <paramref name="culprit"/>: the prover whose final proof was
    /// rejected (it counts against that prover's health, and no task of the sequence goes to it while another prover
    /// can take it), or null (an operator's requeue).</summary>
    Task ReproveAsync(ulong finalBatch, string reason, string? culprit, CancellationToken cancellationToken);

    /// <summary>Proves the sequence before the others: its final proof is needed by <paramref name="deadlineBlock"/> (a
    /// commitment of ours found on chain with no proof in the store).</summary>
    void Expedite(ulong finalBatch, ulong deadlineBlock);
}
