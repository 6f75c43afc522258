using ZkPow.Aggregator.Sender;

namespace ZkPow.Aggregator.Sync;

/// <summary>The rollup node as the sender's source of truth for the roots a final proof must claim.</summary>
public sealed class RollupNodeRoots(IRollupNode node) : IBatchRootsSource
{
    public async Task<BatchRoots?> GetRootsAsync(ulong batch, CancellationToken cancellationToken)
    {
        var answer = await node.GetBatchAsync(batch, cancellationToken).ConfigureAwait(false);
        return answer is null ? null : new BatchRoots(answer.StateRoot, answer.LocalExitRoot);
    }
}
