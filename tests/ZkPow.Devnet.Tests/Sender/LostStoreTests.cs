using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

public abstract class LostStoreTests(StoreKind store)
{
    [Fact]
    public async Task a_lost_store_is_rebuilt_from_our_commitments_on_chain_and_they_are_revealed_before_any_new_hash()
    {
        // The other miner's reveal must land in our round's proof window (T1 + T2 blocks after our hash): a wide window,
        // so that a starved machine does not miss it.
        const byte t1 = 5, t2 = 20;
        await using var h = await SenderHarness.StartAsync(store, t1, t2);
        var us = h.Chain.Miners[0];
        var other = h.Chain.Miners[1];
        var ours = await h.StartMinerAsync(us, "lost");
        var theirs = await h.StartMinerAsync(other, "other");
        var prover = h.AddProver(ours, "us-gpu");
        h.AddProver(theirs, "other-gpu");
        var first = await h.SequenceAsync(1, ours, theirs);

        // Both hashes go into one block, so that the other miner's hash joins our round (the scenario): on a starved
        // machine it could come after our round's hash window, the round would end with no proof, and our commitment in
        // it could never be revealed (the contract slashes it at our next transaction, as it must).
        await h.HashesInOneBlockAsync(first.FinalNewBatch, ours, theirs);

        // We go down right after our hash is on chain; the other miner proves the sequence; our round ends.
        var round = await h.StopAfterCommitmentAsync(ours, prover, first.FinalNewBatch);
        await h.WaitForVerifiedAsync(first.FinalNewBatch, TimeSpan.FromSeconds(30));
        var provedIn = (await h.Reader.GetSequenceAsync(first.FinalNewBatch, default)).RoundStart;
        Assert.True(provedIn == round, $"the scenario needs the other miner's proof in our round (from block {round}); it was proved " +
            $"in the round from block {provedIn}, and our commitment in the round that ended cannot be revealed");
        await SenderHarness.WaitUntilAsync(async () => await h.Reader.GetBlockNumberAsync(default) > round + t1 + t2 + 1, TimeSpan.FromSeconds(20),
            "the round to end");

        // The store is lost. We start on an empty one; the sync hands both sequences to the generator again.
        h.LoseStore("lost");

        ours = await h.StartMinerAsync(us, "lost");
        h.AddProver(ours, "us-gpu");
        await SenderHarness.AddToAsync(ours, first);
        var second = await h.SequenceAsync(1, ours);

        await SenderHarness.WaitUntilAsync(async () => (await h.Reader.GetCommitmentAsync(first.FinalNewBatch, us.Address, default)).Proved
                || (await h.EventsAsync()).OfType<SlashedEvent>().Any(e => SenderHarness.Same(e.Prover, us.Address)),
            TimeSpan.FromSeconds(30), "our late reveal (or a slash)");
        await h.WaitForVerifiedAsync(second.FinalNewBatch, TimeSpan.FromSeconds(30));
        var events = await h.EventsAsync();
        var slashes = events.OfType<SlashedEvent>().Where(e => SenderHarness.Same(e.Prover, us.Address)).ToList();
        Assert.True(slashes.Count == 0,
            $"slashed: {string.Join("; ", slashes)}\nthe rollup's events: {string.Join("; ", events)}\nthe restarted aggregator's last log lines:\n{h.RecentLogsOf("lost")}");
        Assert.True((await h.Reader.GetCommitmentAsync(first.FinalNewBatch, us.Address, default)).Proved);
        Assert.Equal(2, events.OfType<RewardPaidEvent>().Count(e => SenderHarness.Same(e.Prover, us.Address)));
        Assert.Single(events.OfType<SubmitProofHashEvent>(), e => e.FinalNewBatch == first.FinalNewBatch && SenderHarness.Same(e.Prover, us.Address));
    }
}
