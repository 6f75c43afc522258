namespace ZkPow.Aggregator.Sender;

/// <summary>The rollup node's roots after a batch, to check a final proof's claim before committing to it.</summary>
public interface IBatchRootsSource
{
    /// <summary>The state root and local exit root after <paramref name="batch"/>, or null if the node does not know the batch yet.</summary>
    Task<BatchRoots?> GetRootsAsync(ulong batch, CancellationToken cancellationToken);
}
