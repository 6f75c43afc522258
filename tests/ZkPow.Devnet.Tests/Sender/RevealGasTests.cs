using System.Text.Json.Nodes;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sender;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary>A reveal's gas depends on whether it is the first reveal of its sequence (the first also records the sequence
/// as verified). On a real anvil, on SQLite (what matters is the chain, not the store).</summary>
public sealed class RevealGasTests
{
    [Fact]
    public async Task a_reveal_estimated_after_another_miners_reveal_still_has_the_gas_to_be_first_when_a_reorg_takes_that_one_away()
    {
        await using var h = await SenderHarness.StartAsync(StoreKind.Sqlite, t1: 12, t2: 80);
        var us = h.Chain.Miners[0];
        var other = h.Chain.Miners[1];
        // Our reveal stays short of its confirmation depth until the reorg (the pump is held still meanwhile).
        var ours = await h.StartMinerAsync(us, "us", confirmations: 40);
        var theirs = await h.StartMinerAsync(other, "other");
        var ourProver = h.AddProver(ours, "us-gpu");
        h.AddProver(theirs, "other-gpu");
        var sequence = await h.SequenceAsync(1, ours, theirs);
        await h.HashesInOneBlockAsync(sequence.FinalNewBatch, ours, theirs); // the other miner's proof lands in our round

        // We commit, then go down until the other miner's reveal has verified the sequence.
        await h.StopAfterCommitmentAsync(ours, ourProver, sequence.FinalNewBatch, TimeSpan.FromSeconds(30));
        await h.WaitForVerifiedAsync(sequence.FinalNewBatch, TimeSpan.FromSeconds(40));
        var theirReveal = (await h.EventsAsync()).OfType<VerifyBatchesEvent>().Single(e => e.NumBatch == sequence.FinalNewBatch);
        Assert.True(SenderHarness.Same(theirReveal.Aggregator, other.Address));

        // Back up, we reveal too: the estimate runs where the sequence is verified already (the cheaper path).
        ours = await h.StartMinerAsync(us, "us", confirmations: 40);
        var key = TxRequest.KeyFor("verifyBatches", sequence.FinalNewBatch, 0);
        await SenderHarness.WaitUntilAsync(async () => await ours.Store.GetTxAsync(key, default) is { State: TxState.Mined },
            TimeSpan.FromSeconds(30), "our reveal mined");
        var mined = (await ours.Store.GetTxAsync(key, default))!;

        // The other miner goes away, and a reorg replaces the blocks from its reveal on with empty ones: both reveals are
        // dropped, and ours, broadcast again as it was signed, is now the first.
        await h.PauseMiningAsync();
        await h.StopMinerAsync(theirs);
        var head = await h.Chain.GetBlockNumberAsync();
        await h.Chain.Rpc.CallAsync("anvil_reorg", [head - theirReveal.BlockNumber + 1, new JsonArray()], default);
        await SenderHarness.WaitUntilAsync(async () => await ours.Store.GetTxAsync(key, default) is { Reorgs: >= 1 },
            TimeSpan.FromSeconds(30), "the reorg seen");
        h.MiningPaused = false;

        await SenderHarness.WaitUntilAsync(async () => await ours.Store.GetTxAsync(key, default) is { State: TxState.Confirmed or TxState.Failed },
            TimeSpan.FromSeconds(60), "our reveal confirmed or failed");
        var record = (await ours.Store.GetTxAsync(key, default))!;
        Assert.True(record.State == TxState.Confirmed,
            $"our reveal (gas limit {mined.GasLimit}) ended {record.State}: {record.Error}: {record.Revert}");
        Assert.Equal(mined.TxHash, record.TxHash); // The same signed transaction, with the gas limit of its first estimate.
        var events = await h.EventsAsync();
        Assert.True(SenderHarness.Same(events.OfType<VerifyBatchesEvent>().Single(e => e.NumBatch == sequence.FinalNewBatch).Aggregator, us.Address));
        Assert.DoesNotContain(events.OfType<SlashedEvent>(), e => SenderHarness.Same(e.Prover, us.Address));
        Assert.True((await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, us.Address, default)).Proved);
    }
}
