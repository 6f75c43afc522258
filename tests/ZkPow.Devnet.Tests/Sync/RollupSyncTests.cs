using Google.Protobuf;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sync;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Proof;
using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sync;

public abstract class RollupSyncTests(ChainFixture fixture, StoreKind store) : IClassFixture<ChainFixture>
{
    private static byte[] Expected(DevnetBatch batch, string miner) => batch.ToInputProver(1001, 6, miner).ToByteArray();

    [Fact]
    public async Task syncs_multi_batch_sequences_from_genesis_with_complete_prover_inputs()
    {
        await using var h = await SyncHarness.StartAsync(await fixture.ResetAsync(), store, new SyncOptions { MaxBlockRange = 3 });
        var sequences = new List<DevnetSequence>();
        foreach (var count in new[] { 1, 3, 2 })
        {
            sequences.Add(await h.Sequencer.SequenceNextAsync(count));
        }

        var steps = await h.SyncUntilIdleAsync();
        Assert.True(steps.Count(s => s.Kind == SyncStepKind.Advanced) > 1, "bounded block ranges");
        Assert.Equal(SyncStepKind.UpToDate, steps[^1].Kind);

        Assert.Equal(sequences.Select(s => (s.InitNumBatch, s.FinalNewBatch)), h.Sink.Added.Select(a => (a.InitBatch, a.FinalBatch)));
        for (var i = 0; i < sequences.Count; i++)
        {
            Assert.Equal(sequences[i].Batches.Select(b => Expected(b, h.Miner)), h.Sink.Added[i].Batches.Select(b => b.ProverInput));
        }

        var status = await h.Sync.GetStatusAsync(10, default);
        Assert.All(status, s => Assert.Equal(SyncSequenceStatus.Accepted, s.Status));
        Assert.Equal(3, h.Metrics.SequencesSynced);

        // A second pass over the same chain adds nothing.
        Assert.Equal(SyncStepKind.UpToDate, (await h.Sync.SyncOnceAsync(default)).Kind);
        Assert.Equal(3, h.Sink.Added.Count);
    }

    [Fact]
    public async Task start_batch_skips_the_sequences_before_it_and_takes_old_roots_from_the_node()
    {
        await using var h = await SyncHarness.StartAsync(await fixture.ResetAsync(), store, new SyncOptions { StartBatch = 3 });
        await h.Sequencer.SequenceNextAsync(2);
        var second = await h.Sequencer.SequenceNextAsync(2);
        var third = await h.Sequencer.SequenceNextAsync(1);

        await h.SyncUntilIdleAsync();

        Assert.Equal([(2UL, 4UL), (4UL, 5UL)], h.Sink.Added.Select(a => (a.InitBatch, a.FinalBatch)));
        Assert.Equal(second.Batches.Select(b => Expected(b, h.Miner)), h.Sink.Added[0].Batches.Select(b => b.ProverInput));
        Assert.Equal(third.Batches.Select(b => Expected(b, h.Miner)), h.Sink.Added[1].Batches.Select(b => b.ProverInput));
    }

    [Fact]
    public async Task a_lying_rollup_node_is_detected_and_no_task_is_created_for_that_sequence()
    {
        await using var h = await SyncHarness.StartAsync(await fixture.ResetAsync(), store, generator: true, provers: 0);
        await h.Sequencer.SequenceNextAsync(1);
        await h.Sequencer.SequenceNextAsync(2);
        await h.Sequencer.SequenceNextAsync(1);
        h.Node.Lie(2);

        await h.SyncUntilIdleAsync();

        Assert.Equal([1UL], h.Sink.Added.Select(a => a.FinalBatch).Where(f => f <= 3));
        var refused = Assert.Single(await h.Sync.GetStatusAsync(10, default), s => s.Refused);
        Assert.Equal(3UL, refused.FinalBatch);
        Assert.Contains("acc input hash", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(1, h.Metrics.SequencesRefused);
        var counts = await h.Store.CountTasksAsync(default);
        Assert.Equal(1 + 1, counts.Values.Sum()); // (0,1] and the batch of (3,4] that follows the refused one; none for (1,3]
        Assert.DoesNotContain(h.Sink.Added, a => a.FinalBatch == 3);
    }

    [Fact]
    public async Task a_sequence_verified_by_another_miner_before_we_commit_is_abandoned_and_counted_lost()
    {
        var chain = await fixture.ResetAsync();
        await using var h = await SyncHarness.StartAsync(chain, store, generator: true, provers: 0);
        var sequence = await h.Sequencer.SequenceNextAsync(2);
        await h.SyncUntilIdleAsync();
        Assert.Single(h.Sink.Added);

        var rival = chain.Miners[1];
        var proof = DevnetFinalProofCodec.Encode(sequence.ToFinalProof(rival.Address));
        await chain.SendAsync(rival, chain.Contracts.Rollup, RollupCalls.SubmitProofHash(sequence.InitNumBatch, sequence.FinalNewBatch,
            ProofHash.Compute(proof, rival.Address)));
        await h.SyncUntilIdleAsync();
        var start = (await h.ChainClient.GetSequenceAsync(sequence.FinalNewBatch, default)).RoundStart;
        Assert.Equal(start + 5, h.Sink.Deadlines[sequence.FinalNewBatch]);
        Assert.Equal(start + 5, h.Generator!.GetDeadline(sequence.FinalNewBatch));

        // A restarted sync tells the generator the deadline again (it is kept in memory only).
        h.Sink.Deadlines.Clear();
        await h.NewSync().SyncOnceAsync(default);
        Assert.Equal(start + 5, h.Sink.Deadlines[sequence.FinalNewBatch]);

        await chain.MineToAsync(start + 5);
        var reveal = await chain.SendAsync(rival, chain.Contracts.Rollup, RollupCalls.VerifyBatches(sequence.InitNumBatch, sequence.FinalNewBatch,
            sequence.NewLocalExitRoot, sequence.NewStateRoot, proof));
        Assert.True(reveal.Succeeded);
        await h.SyncUntilIdleAsync();

        var abandoned = Assert.Single(h.Sink.Abandoned);
        Assert.Equal(sequence.FinalNewBatch, abandoned.Final);
        var status = Assert.Single(await h.Sync.GetStatusAsync(10, default));
        Assert.True(status.LostToCompetition);
        Assert.Equal(rival.Address.ToLowerInvariant(), status.VerifiedBy);
        Assert.Equal(start, status.RoundStart);
        Assert.Equal([(rival.Address.ToLowerInvariant(), false)], status.Committers.Select(c => (c.Account, c.Ours)));
        Assert.Equal(1, h.Metrics.SequencesLost);
        Assert.Null(h.Generator.GetDeadline(sequence.FinalNewBatch));
        var counts = await h.Store.CountTasksAsync(default);
        Assert.All(counts, c => Assert.Equal(Aggregator.Generator.TaskState.Discarded, c.Key.State));
    }

    [Fact]
    public async Task events_are_only_trusted_once_they_are_confirmations_deep()
    {
        var chain = await fixture.ResetAsync();
        await using var h = await SyncHarness.StartAsync(chain, store, new SyncOptions { Confirmations = 3 });
        await h.Sequencer.SequenceNextAsync(1);
        await h.SyncUntilIdleAsync();
        Assert.Empty(h.Sink.Added);
        Assert.True(h.Metrics.LagBlocks >= 3);

        await chain.MineAsync(3);
        await h.SyncUntilIdleAsync();
        Assert.Equal([1UL], h.Sink.Added.Select(a => a.FinalBatch));
        Assert.Equal(3, h.Metrics.LagBlocks);
    }

    [Fact]
    public async Task a_reorg_that_sequences_the_same_data_again_keeps_the_sequence()
    {
        var chain = await fixture.ResetAsync();
        await using var h = await SyncHarness.StartAsync(chain, store);
        var sequence = await h.Sequencer.SequenceNextAsync(2);
        var sequencedAt = await chain.GetBlockNumberAsync();
        await chain.MineAsync(1);
        await h.SyncUntilIdleAsync();

        var tx = new System.Text.Json.Nodes.JsonObject
        {
            ["from"] = chain.Admin.Address,
            ["to"] = chain.Contracts.Rollup,
            ["data"] = "0x" + Convert.ToHexStringLower(h.Sequencer.CallData(sequence)),
            ["gas"] = "0x1000000",
        };
        var depth = await chain.GetBlockNumberAsync() - sequencedAt + 1;
        await chain.Rpc.CallAsync("anvil_reorg", [depth, new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonArray(tx, 0))], default);

        Assert.Equal(SyncStepKind.Reorged, (await h.Sync.SyncOnceAsync(default)).Kind);
        Assert.Empty(h.Sink.Discarded);
        await h.SyncUntilIdleAsync();
        Assert.Equal([2UL, 2UL], h.Sink.Added.Select(a => a.FinalBatch));
        Assert.Equal(h.Sink.Added[0].Batches.Select(b => b.ProverInput), h.Sink.Added[1].Batches.Select(b => b.ProverInput));
        var status = Assert.Single(await h.Sync.GetStatusAsync(10, default));
        Assert.Equal(SyncSequenceStatus.Accepted, status.Status);
    }

    [Fact]
    public async Task rpc_failures_write_nothing_and_the_sync_resumes_when_the_nodes_answer()
    {
        await using var h = await SyncHarness.StartAsync(await fixture.ResetAsync(), store);
        await h.Sequencer.SequenceNextAsync(2);

        h.Node.AnswerGarbage = true;
        var garbage = await h.Sync.SyncOnceAsync(default);
        Assert.Equal(SyncStepKind.Failed, garbage.Kind);
        Assert.Contains("invalid JSON", garbage.Detail, StringComparison.Ordinal);
        Assert.Null(await h.Store.GetCursorAsync(default));
        Assert.Empty(h.Sink.Added);
        h.Node.AnswerGarbage = false;

        using var deadRpc = new EthRpcClient("http://127.0.0.1:9", TimeSpan.FromSeconds(1));
        var down = await h.NewSync(baseRpc: deadRpc).SyncOnceAsync(default);
        Assert.Equal(SyncStepKind.Failed, down.Kind);
        Assert.Contains("unreachable", down.Detail, StringComparison.Ordinal);

        using var deadNode = new RollupNodeClient("http://127.0.0.1:9", TimeSpan.FromSeconds(1));
        var nodeDown = await h.NewSync(node: deadNode).SyncOnceAsync(default);
        Assert.Equal(SyncStepKind.Failed, nodeDown.Kind);
        Assert.Null(await h.Store.GetCursorAsync(default));

        // The node is behind: the range with the sequence it does not know waits, nothing of it is written. (The
        // range the failed steps above read is resumed first, and its sequence handed over.)
        var ahead = h.Sequencer.Build(1);
        await h.Chain.SendAsync(h.Chain.Admin, h.Chain.Contracts.Rollup, h.Sequencer.CallData(ahead));
        var steps = await h.SyncUntilIdleAsync();
        Assert.Equal(SyncStepKind.Waiting, steps[^1].Kind);
        Assert.DoesNotContain(h.Sink.Added, a => a.FinalBatch == ahead.FinalNewBatch);
        h.Ledger.Record(ahead, null);

        // The running sync retries a garbage-answering node with backoff and catches up once it recovers.
        h.Node.AnswerGarbage = true;
        var failures = h.Metrics.RpcFailures;
        using var cts = new CancellationTokenSource();
        var run = h.Sync.RunAsync(cts.Token);
        await WaitUntilAsync(() => h.Metrics.RpcFailures >= failures + 3);
        Assert.Equal([2UL], h.Sink.Added.Select(a => a.FinalBatch));
        h.Node.AnswerGarbage = false;
        await WaitUntilAsync(() => h.Sink.Added.Count == 2);
        await cts.CancelAsync();
        await run;
        Assert.Equal([2UL, 3UL], h.Sink.Added.Select(a => a.FinalBatch));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, int timeoutMs = 10_000)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.ElapsedMilliseconds < timeoutMs, "condition not met in time");
            await Task.Delay(20);
        }
    }
}
