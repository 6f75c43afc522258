namespace ZkPow.Aggregator.Sender;

/// <summary>Sends a sequence back to the generator for a new final proof.</summary>
public interface ISequenceReprover
{
    Task ReproveAsync(ulong finalBatch, string reason, CancellationToken cancellationToken);

    /// <summary>Proves the sequence before the others: its final proof is needed by <paramref name="deadlineBlock"/> (a
    /// commitment of ours found on chain with no proof in the store).</summary>
    void Expedite(ulong finalBatch, ulong deadlineBlock);
}
