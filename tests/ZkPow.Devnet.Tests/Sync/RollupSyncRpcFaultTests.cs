using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sync;
using ZkPow.Devnet.Tests.Chain;
using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sync;

/// <summary>The rollup sync on real anvil and the devnet rollup node, each reached through two independent fault
/// proxies that fail ~20 % of the requests (one of anvil's answers the head 3 blocks behind).</summary>
public abstract class RollupSyncRpcFaultTests(ChainFixture fixture, StoreKind store, ITestOutputHelper output) : IClassFixture<ChainFixture>
{
    [Fact]
    public async Task the_sync_hands_over_every_sequence_through_failing_endpoints()
    {
        const double failureRate = 0.2;
        await using var h = await SyncHarness.StartAsync(await fixture.ResetAsync(), store);
        var sequences = new List<(ulong, ulong)>();
        for (var i = 0; i < 4; i++)
        {
            var sequence = await h.Sequencer.SequenceNextAsync(1 + (i % 3));
            sequences.Add((sequence.InitNumBatch, sequence.FinalNewBatch));
        }

        await using var chainA = await TxManagerRpcFaultTests.StartProxyAsync(h.Chain.RpcUrl, failureRate, seed: 3);
        await using var chainB = await TxManagerRpcFaultTests.StartProxyAsync(h.Chain.RpcUrl, failureRate, seed: 4, lagging: true);
        await using var nodeA = await TxManagerRpcFaultTests.StartProxyAsync(h.Node.Url, failureRate, seed: 5);
        await using var nodeB = await TxManagerRpcFaultTests.StartProxyAsync(h.Node.Url, failureRate, seed: 6);
        using var baseRpc = new EthRpcClient([chainA.Url, chainB.Url], TxManagerRpcFaultTests.FaultRetry,
            SyncHarness.Loggers.CreateLogger<EthRpcClient>(), TimeProvider.System);
        using var node = new RollupNodeClient([nodeA.Url, nodeB.Url], TxManagerRpcFaultTests.FaultRetry,
            SyncHarness.Loggers.CreateLogger<RollupNodeClient>(), TimeProvider.System);
        // Small ranges: many steps, each with many calls.
        var sync = h.NewSync(new SyncOptions { MaxBlockRange = 4 }, node, baseRpc);
        var failuresBefore = h.Metrics.RpcFailures;
        var clock = Stopwatch.StartNew();

        using var cts = new CancellationTokenSource();
        var run = sync.RunAsync(cts.Token);
        // More sequences while the sync runs: many small steps, each with many calls.
        for (var i = 4; i < 12; i++)
        {
            var sequence = await h.Sequencer.SequenceNextAsync(1 + (i % 3));
            sequences.Add((sequence.InitNumBatch, sequence.FinalNewBatch));
            await Task.Delay(100);
        }

        // Handed over, then recorded (a step hands its sequences to the sink before it records its range): wait for both,
        // so that stopping the loop does not cancel the last range's write.
        while (h.Sink.Added.Select(a => a.FinalBatch).Distinct().Count() < sequences.Count
               || (await sync.GetStatusAsync(100, default)).Count < sequences.Count)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"only {h.Sink.Added.Count} of {sequences.Count} sequences synced");
            Assert.False(run.IsCompleted, "the sync loop ended");
            await Task.Delay(50);
        }

        clock.Stop();
        await cts.CancelAsync();
        await run;

        Assert.Equal(sequences, h.Sink.Added.Select(a => (a.InitBatch, a.FinalBatch)).Distinct());
        var status = await sync.GetStatusAsync(100, default);
        Assert.Equal(sequences.Count, status.Count);
        Assert.All(status, s => Assert.Equal(SyncSequenceStatus.Accepted, s.Status));
        Assert.True(chainA.Injected + chainB.Injected + nodeA.Injected + nodeB.Injected > 0, "the proxies injected faults");
        output.WriteLine($"{sequences.Count} sequences synced in {clock.Elapsed.TotalSeconds:0.0}s at an injected failure rate of {failureRate:P0}; " +
                         $"failed steps {h.Metrics.RpcFailures - failuresBefore}");
        output.WriteLine($"base chain: {baseRpc.Transport.Calls} calls, {baseRpc.Transport.TransientFailures} transient failures, {baseRpc.Transport.Retries} retries");
        output.WriteLine($"rollup node: {node.Transport.Calls} calls, {node.Transport.TransientFailures} transient failures, {node.Transport.Retries} retries");
        output.WriteLine($"anvil A: {chainA.Describe()}");
        output.WriteLine($"anvil B (3 blocks behind on head and latest reads): {chainB.Describe()}");
        output.WriteLine($"node A: {nodeA.Describe()}");
        output.WriteLine($"node B: {nodeB.Describe()}");
    }

    [Fact]
    public async Task a_failed_step_resumes_its_range_without_reading_again_what_it_read()
    {
        await using var h = await SyncHarness.StartAsync(await fixture.ResetAsync(), store);
        await h.Sequencer.SequenceNextAsync(3);
        await h.Sequencer.SequenceNextAsync(3);
        // The node fails its 5th batch read once: the first step fails half-way through the second sequence.
        var node = new FlakyNode(h.NodeClient, failAt: 5);
        var sync = h.NewSync(node: node);

        Assert.Equal(SyncStepKind.Failed, (await sync.SyncOnceAsync(default)).Kind);
        Assert.Empty(h.Sink.Added);
        var steps = await h.SyncUntilIdleAsync(sync);

        Assert.Equal(SyncStepKind.UpToDate, steps[^1].Kind);
        Assert.Equal([3UL, 6UL], h.Sink.Added.Select(a => a.FinalBatch));
        // Batches 0..6, each read once: the retry read only what the failed try had not.
        Assert.All(node.Reads, r => Assert.Equal(1, r.Value));
        Assert.Equal(7, node.Reads.Count);
    }

    /// <summary>A rollup node that fails one batch read (the n-th) and counts the successful reads per batch.</summary>
    private sealed class FlakyNode(IRollupNode inner, int failAt) : IRollupNode
    {
        private int _calls;

        public Dictionary<ulong, int> Reads { get; } = [];

        public Task<ulong> GetBatchNumberAsync(CancellationToken cancellationToken) => inner.GetBatchNumberAsync(cancellationToken);

        public Task<ulong> GetVirtualBatchNumberAsync(CancellationToken cancellationToken) => inner.GetVirtualBatchNumberAsync(cancellationToken);

        public Task<ulong> GetVerifiedBatchNumberAsync(CancellationToken cancellationToken) => inner.GetVerifiedBatchNumberAsync(cancellationToken);

        public async Task<RollupNodeBatch?> GetBatchAsync(ulong number, CancellationToken cancellationToken)
        {
            if (++_calls == failAt)
            {
                throw new ChainUnavailableException("zkevm_getBatchByNumber: the node did not answer in time");
            }

            var batch = await inner.GetBatchAsync(number, cancellationToken);
            Reads[number] = Reads.GetValueOrDefault(number) + 1;
            return batch;
        }
    }
}
