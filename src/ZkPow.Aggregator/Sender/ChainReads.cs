using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Sender;

/// <summary>The chain reads of one commitment in a monitor pass, started together with those of the others.</summary>
internal sealed record ChainReads(Task<ProofCommitment> Commitment, Task<SequencedBatch> Sequence)
{
    public IEnumerable<Task> All => [Commitment, Sequence];

    /// <summary>Waits for reads a pass did not use (it ended early or failed), so that none fails unobserved.</summary>
    public static async Task SettleAsync(IEnumerable<Task> reads)
    {
        try
        {
            await Task.WhenAll(reads).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Observed: the pass that needed a failed read has already seen its error.
        }
    }
}
