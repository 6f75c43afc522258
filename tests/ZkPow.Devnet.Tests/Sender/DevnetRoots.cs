using System.Collections.Concurrent;
using ZkPow.Aggregator.Sender;
using ZkPow.Devnet.Proof;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary>The rollup node's roots per batch, from the devnet sequences the test sequenced.</summary>
internal sealed class DevnetRoots : IBatchRootsSource
{
    private readonly ConcurrentDictionary<ulong, BatchRoots> _roots = new();

    public DevnetRoots()
    {
        _roots[0] = new BatchRoots(DevnetRules.GenesisStateRoot(), new byte[32]);
    }

    public void Add(DevnetSequence sequence)
    {
        foreach (var batch in sequence.Batches)
        {
            _roots[batch.Number] = new BatchRoots(batch.StateRoot, batch.LocalExitRoot);
        }
    }

    public Task<BatchRoots?> GetRootsAsync(ulong batch, CancellationToken cancellationToken) =>
        Task.FromResult(_roots.TryGetValue(batch, out var roots) ? roots : null);
}
