using System.Text.Json.Nodes;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Rollup;
using ZkPow.Devnet.Tests.Contracts;

namespace ZkPow.Devnet.Tests.Faults;

/// <summary>The devnet sequencer after an <c>anvil_reorg</c> that drops its <c>sequenceBatches</c> transactions.</summary>
public sealed class SequencerReorgTests(ChainFixture fixture) : IClassFixture<ChainFixture>
{
    [Fact]
    public async Task the_sequencer_sends_again_in_order_the_sequences_a_reorg_dropped()
    {
        var chain = await fixture.ResetAsync();
        var ledger = new DevnetRollupLedger();
        var sequencer = new DevnetSequencer(chain, new DevnetSequencerOptions { Seed = 3, MaxBatchesPerSequence = 3 }, ledger, TimeProvider.System);
        var sequences = new List<ZkPow.Devnet.Proof.DevnetSequence>();
        for (var i = 0; i < 3; i++)
        {
            sequences.Add(await sequencer.SequenceNextAsync());
        }

        async Task<ulong> LastSequencedAsync() => (await chain.ReadAsync(chain.Contracts.Rollup, RollupCalls.LastBatchSequenced())).UInt64(0);
        async Task<byte[]> AccAsync(ulong final) => (await chain.ReadAsync(chain.Contracts.Rollup, RollupCalls.SequencedBatches(final))).Bytes32(0);
        var accs = new List<byte[]>();
        foreach (var s in sequences)
        {
            accs.Add(await AccAsync(s.FinalNewBatch));
        }

        var droppedTx = ledger.GetSequenceTransaction(sequences[2].FinalNewBatch);
        Assert.Equal(0, await sequencer.RepairAsync());

        // Automine: one block per sequence; the last two are replaced by empty blocks.
        await chain.Rpc.CallAsync("anvil_reorg", [2, new JsonArray()], default);
        Assert.Equal(sequences[0].FinalNewBatch, await LastSequencedAsync());

        Assert.Equal(2, await sequencer.RepairAsync());
        Assert.Equal(2, sequencer.Resent);
        Assert.Equal(ledger.LastBatch, await LastSequencedAsync());
        for (var i = 0; i < sequences.Count; i++)
        {
            Assert.Equal(accs[i], await AccAsync(sequences[i].FinalNewBatch));
        }

        Assert.NotEqual(droppedTx, ledger.GetSequenceTransaction(sequences[2].FinalNewBatch));
        Assert.Equal(0, await sequencer.RepairAsync());

        // The next sequence follows the repaired ones.
        var next = await sequencer.SequenceNextAsync();
        Assert.Equal(sequences[2].FinalNewBatch, next.InitNumBatch);
        Assert.Equal(next.FinalNewBatch, await LastSequencedAsync());
    }

    [Fact]
    public async Task a_reorg_waits_for_a_sequence_on_its_way_so_that_it_is_not_mined_on_top_of_a_dropped_one()
    {
        var chain = await fixture.ResetAsync();
        var ledger = new DevnetRollupLedger();
        var sequencer = new DevnetSequencer(chain, new DevnetSequencerOptions { Seed = 5, MaxBatchesPerSequence = 3 }, ledger, TimeProvider.System);
        var first = await sequencer.SequenceNextAsync(batches: 2);
        async Task<ulong> LastSequencedAsync() => (await chain.ReadAsync(chain.Contracts.Rollup, RollupCalls.LastBatchSequenced())).UInt64(0);
        var firstBlock = (ulong)HexData.ParseQuantity((await chain.Rpc.CallAsync("eth_getTransactionReceipt",
            [ledger.GetSequenceTransaction(first.FinalNewBatch)], default)).GetProperty("blockNumber"));

        // The next sequence is sent and waits in the pool (no automine); a reorg that drops the first one is asked for
        // meanwhile. Mined on top of what the reorg leaves, the second would take the first one's batch numbers.
        await chain.SetAutomineAsync(false);
        var second = sequencer.Build(batches: 1);
        var sending = sequencer.SendAsync(second);
        await ZkPow.Devnet.Tests.Chain.TxHarness.WaitUntilAsync(async () => await chain.Rpc.CallAsync("eth_getBlockByNumber", ["pending", false], default) is { } pending &&
                                                   pending.GetProperty("transactions").GetArrayLength() > 0, TimeSpan.FromSeconds(30), "the second sequence in the pool");
        var reorgRan = false;
        var reorg = sequencer.ReorgAsync(async token =>
        {
            reorgRan = true;
            // (The pool, not the send's task: the send lets go of the sequencer's lock just before its task completes.)
            var pool = await chain.Rpc.CallAsync("eth_getBlockByNumber", ["pending", false], token);
            Assert.True(pool.GetProperty("transactions").GetArrayLength() == 0, "the reorg ran while a sequence was on its way");
            // From the first sequence's block on: both sequences are dropped.
            var head = await chain.GetBlockNumberAsync(token);
            await chain.Rpc.CallAsync("anvil_reorg", [head - firstBlock + 1, new JsonArray()], token);
        });
        await Task.Delay(300);
        Assert.False(reorgRan);

        await chain.MineAsync();
        await sending.WaitAsync(TimeSpan.FromSeconds(30));
        await chain.SetAutomineAsync(true);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!reorg.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            // A repair send that reached the pool before automine came back is mined by hand.
            await Task.WhenAny(reorg, Task.Delay(200));
            await chain.MineAsync();
        }

        Assert.Equal(2, await reorg.WaitAsync(TimeSpan.FromSeconds(1)));

        // Both sequences are on chain again, in order, with the batch numbers the ledger has.
        Assert.True(reorgRan);
        Assert.Equal(second.FinalNewBatch, await LastSequencedAsync());
        Assert.Equal(ledger.LastBatch, await LastSequencedAsync());
        foreach (var s in new[] { first, second })
        {
            Assert.Equal(ledger.GetBatch(s.FinalNewBatch)!.AccInputHash,
                (await chain.ReadAsync(chain.Contracts.Rollup, RollupCalls.SequencedBatches(s.FinalNewBatch))).Bytes32(0));
        }
    }
}
