namespace ZkPow.Aggregator.Sync;

/// <summary>What the sync reads from the rollup node. Transport failures throw
/// <see cref="Chain.ChainUnavailableException"/>; invalid answers throw <see cref="RollupNodeException"/>.</summary>
public interface IRollupNode
{
    Task<ulong> GetBatchNumberAsync(CancellationToken cancellationToken);

    Task<ulong> GetVirtualBatchNumberAsync(CancellationToken cancellationToken);

    Task<ulong> GetVerifiedBatchNumberAsync(CancellationToken cancellationToken);

    /// <summary>The batch, or null when the node does not know it (yet).</summary>
    Task<RollupNodeBatch?> GetBatchAsync(ulong number, CancellationToken cancellationToken);
}
