using System.Text.Json.Nodes;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sender;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary>A planned stop (<c>zkpow drain</c>) on a real anvil: it ends only once every commitment of ours is revealed.</summary>
public abstract class DrainTests(StoreKind store)
{
    [Fact]
    public async Task a_held_hash_tx_whose_original_beats_its_cancel_while_draining_is_revealed_before_the_drain_ends()
    {
        await using var h = await SenderHarness.StartAsync(store, t1: 12, t2: 24);
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "drain", confirmations: 3);
        h.AddProver(aggregator, "gpu");
        var sequence = await h.SequenceAsync(1);
        var final = sequence.FinalNewBatch;
        var hashKey = TxRequest.KeyFor("submitProofHash", final, 0);

        // Blocks are mined by the test from here: our hash tx reaches the node, and the drain begins.
        await h.PauseMiningAsync();
        await SenderHarness.AddToAsync(aggregator, sequence);
        await SenderHarness.WaitUntilAsync(async () => await aggregator.Store.GetTxAsync(hashKey, default) is { State: TxState.Sent },
            TimeSpan.FromSeconds(60), "our hash tx sent");
        var original = (await aggregator.Store.GetTxAsync(hashKey, default))!;
        await aggregator.Node.BeginDrainAsync(default);

        // Mined, then taken away by a reorg before the confirmation depth: the tx manager holds it, and on the next block
        // the draining sender cancels it (the record goes back to Queued under the next hash key).
        await h.Chain.MineAsync();
        await SenderHarness.WaitUntilAsync(async () => await aggregator.Store.GetTxAsync(hashKey, default) is { State: TxState.Mined },
            TimeSpan.FromSeconds(30), "our hash tx mined");
        await h.Chain.Rpc.CallAsync("anvil_reorg", [1, new JsonArray()], default);
        await SenderHarness.WaitUntilAsync(async () => await aggregator.Store.GetTxAsync(hashKey, default) is { State: TxState.Sent, Reorgs: 1 },
            TimeSpan.FromSeconds(30), "the reorg seen");
        await h.Chain.MineAsync();
        await SenderHarness.WaitUntilAsync(async () => await aggregator.Store.GetTxAsync(hashKey, default) is { Kind: TxRequest.CancelKind },
            TimeSpan.FromSeconds(30), "our hash tx cancelled");
        Assert.Equal(SubmissionState.Queued, (await aggregator.Store.GetSubmissionAsync(final, default))!.State);
        await SenderHarness.WaitUntilAsync(() => Task.FromResult(aggregator.Node.Drain.OpenCommitments == 0), TimeSpan.FromSeconds(30),
            "no open commitment counted");

        // The original beats the cancel (another node had it): our commitment is live on chain, our record is Queued (and
        // stays so until the next block). The drain counts it open at once.
        await h.Chain.Rpc.CallAsync("anvil_reorg", [1, new JsonArray(new JsonArray(HexData.Encode(original.RawTx!), 0))], default);
        Assert.True((await h.Reader.GetCommitmentAsync(final, us.Address, default)).Exists);
        await SenderHarness.WaitUntilAsync(() => Task.FromResult(aggregator.Node.Drain.OpenCommitments == 1), TimeSpan.FromSeconds(30),
            "the live commitment of the queued record counted open");
        h.MiningPaused = false;

        // The drain ends only once that commitment is revealed (its reveal at the confirmation depth), never before.
        await SenderHarness.WaitUntilAsync(() => Task.FromResult(aggregator.Node.Drained), TimeSpan.FromSeconds(90), "the drain to end");
        var commitment = await h.Reader.GetCommitmentAsync(final, us.Address, default);
        Assert.True(commitment.Proved, $"drained with our commitment (round {commitment.RoundStart}) live and unrevealed: a slash at its round's end");
        Assert.Equal(SubmissionState.Revealed, (await aggregator.Store.GetSubmissionAsync(final, default))!.State);
        var events = await h.EventsAsync();
        Assert.Single(events.OfType<SubmitProofHashEvent>(), e => e.FinalNewBatch == final && SenderHarness.Same(e.Prover, us.Address));
        Assert.Single(events.OfType<VerifyBatchesEvent>(), e => e.NumBatch == final);
        Assert.Empty(events.OfType<SlashedEvent>());
    }
}
