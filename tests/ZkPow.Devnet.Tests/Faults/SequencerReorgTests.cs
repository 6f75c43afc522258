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
}
