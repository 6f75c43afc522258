using System.Text.Json.Nodes;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Sync;
using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sync;

/// <summary>Sync and generator together: real anvil, real SQLite, mock provers over real gRPC.</summary>
public abstract class SyncProvingTests(ChainFixture fixture, StoreKind store) : IClassFixture<ChainFixture>
{
    [Fact]
    public async Task a_reorg_that_replaces_a_sequence_discards_its_old_proofs_and_proves_the_new_one()
    {
        var chain = await fixture.ResetAsync();
        await using var h = await SyncHarness.StartAsync(chain, store, generator: true);
        var original = await h.Sequencer.SequenceNextAsync(2);
        var sequencedAt = await chain.GetBlockNumberAsync();
        await chain.MineAsync(2);
        await h.SyncUntilIdleAsync();
        await h.WaitForFinalAsync(f => f.FinalBatch == original.FinalNewBatch);

        // The block that carried the sequence is replaced by one carrying other batches with the same numbers.
        var replacement = h.Sequencer.Build(2, afterBatch: 0);
        var head = await chain.GetBlockNumberAsync();
        var tx = new JsonObject
        {
            ["from"] = chain.Admin.Address,
            ["to"] = chain.Contracts.Rollup,
            ["data"] = "0x" + Convert.ToHexStringLower(h.Sequencer.CallData(replacement)),
            ["gas"] = "0x1000000",
        };
        await chain.Rpc.CallAsync("anvil_reorg", [head - sequencedAt + 1, new JsonArray(new JsonArray(tx, 0))], default);
        h.Ledger.Record(replacement, null);
        Assert.Equal(replacement.NewAccInputHash, (await h.ChainClient.GetSequenceAsync(2, default)).AccInputHash);

        var reorg = await h.Sync.SyncOnceAsync(default);
        Assert.Equal(SyncStepKind.Reorged, reorg.Kind);
        Assert.True(reorg.ToBlock < sequencedAt);
        Assert.Equal(original.FinalNewBatch, Assert.Single(h.Sink.Discarded).Final);
        Assert.Equal(1, h.Metrics.Reorgs);

        await h.SyncUntilIdleAsync();
        Assert.Equal(2, h.Sink.Added.Count);
        await h.WaitForFinalAsync(f => f.FinalBatch == 2 && f.NewAccInputHash.AsSpan().SequenceEqual(replacement.NewAccInputHash));
        var stored = await h.Store.GetFinalProofAsync(2, default);
        Assert.Equal(replacement.NewStateRoot, stored!.NewStateRoot);
        var check = await h.ChainClient.CheckProofAsync(h.Miner,
            new ProofClaim(0, 2, stored.NewLocalExitRoot, replacement.OldStateRoot, stored.NewStateRoot), HexBytes(stored.Proof), default);
        Assert.True(check.Valid);
    }

    [Fact]
    public async Task end_to_end_devnet_rollup_to_final_proofs_the_devnet_verifier_accepts()
    {
        var chain = await fixture.ResetAsync();
        await using var h = await SyncHarness.StartAsync(chain, store, new SyncOptions { Confirmations = 1, MaxBlockRange = 4 }, generator: true, provers: 3);
        using var cts = new CancellationTokenSource();
        var sync = h.Sync.RunAsync(cts.Token);
        var sequencer = new Rollup.DevnetSequencer(chain, new Rollup.DevnetSequencerOptions { Seed = 5, Interval = TimeSpan.FromMilliseconds(150) },
            h.Ledger, TimeProvider.System);
        var sequencing = sequencer.RunAsync(cts.Token);
        await WaitUntilAsync(() => h.Sink.Added.Count >= 4);
        await cts.CancelAsync();
        await Task.WhenAll(sync, sequencing);

        var added = h.Sink.Added.ToList();
        foreach (var sequence in added)
        {
            await h.WaitForFinalAsync(f => f.FinalBatch == sequence.FinalBatch);
            var record = await h.Store.GetFinalProofAsync(sequence.FinalBatch, default);
            var oldRoot = h.Ledger.GetBatch(sequence.InitBatch)!.StateRoot;
            var claim = new ProofClaim(sequence.InitBatch, sequence.FinalBatch, record!.NewLocalExitRoot, oldRoot, record.NewStateRoot);
            Assert.True((await h.ChainClient.CheckProofAsync(h.Miner, claim, HexBytes(record.Proof), default)).Valid,
                $"final proof of ({sequence.InitBatch},{sequence.FinalBatch}]");
            Assert.False((await h.ChainClient.CheckProofAsync(chain.Miners[1].Address, claim, HexBytes(record.Proof), default)).Valid);
        }

        Assert.True(added.Any(a => a.Batches.Count > 1), "some sequence has several batches");
    }

    private static byte[] HexBytes(string hex) => Convert.FromHexString(hex.StartsWith("0x", StringComparison.Ordinal) ? hex[2..] : hex);

    private static async Task WaitUntilAsync(Func<bool> condition, int timeoutMs = 20_000)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.ElapsedMilliseconds < timeoutMs, "condition not met in time");
            await Task.Delay(20);
        }
    }
}
