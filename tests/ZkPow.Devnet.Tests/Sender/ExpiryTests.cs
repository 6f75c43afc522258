using System.Numerics;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

public abstract class ExpiryTests(StoreKind store)
{
    [Fact]
    public async Task a_missed_hash_window_is_committed_again_in_a_new_round_once_the_round_expires_without_proof()
    {
        await using var h = await SenderHarness.StartAsync(store);
        var us = h.Chain.Miners[0];
        var other = h.Chain.Miners[1];
        var aggregator = await h.StartMinerAsync(us, "expiry");
        var sequence = await h.SequenceAsync(1, aggregator);

        // Another miner opens the round and never reveals; our proof only exists once its hash window is closed.
        await h.Chain.SendAsync(other, h.Chain.Contracts.Rollup,
            RollupCalls.SubmitProofHash(sequence.InitNumBatch, sequence.FinalNewBatch, Abi.Keccak("never revealed"u8)));
        var firstRound = (await h.Reader.GetSequenceAsync(sequence.FinalNewBatch, default)).RoundStart;
        await SenderHarness.WaitUntilAsync(async () => await h.Reader.GetBlockNumberAsync(default) > firstRound + 5, TimeSpan.FromSeconds(10),
            "the hash window to close");
        h.AddProver(aggregator, "gpu");

        await h.WaitForVerifiedAsync(sequence.FinalNewBatch, TimeSpan.FromSeconds(30));
        var events = await h.EventsAsync();
        var ours = events.OfType<SubmitProofHashEvent>().Where(e => SenderHarness.Same(e.Prover, us.Address)).ToList();
        var commit = Assert.Single(ours);
        Assert.True(commit.BlockNumber > firstRound + 15, $"committed in block {commit.BlockNumber}, inside the first round ({firstRound})");
        var verified = Assert.Single(events.OfType<VerifyBatchesEvent>());
        Assert.True(SenderHarness.Same(verified.Aggregator, us.Address));
        Assert.DoesNotContain(events.OfType<SlashedEvent>(), e => SenderHarness.Same(e.Prover, us.Address));
        var reward = Assert.Single(events.OfType<RewardPaidEvent>(), e => SenderHarness.Same(e.Prover, us.Address));
        Assert.Equal(Wei.FromEther(1), reward.Amount); // the new round has our stake only
        Assert.True(aggregator.Sender.Metrics.Count("sequence", "resend") >= 1);
    }

    [Fact]
    public async Task a_stalled_predecessor_never_gets_a_commitment_of_ours_slashed()
    {
        await using var h = await SenderHarness.StartAsync(store);
        var us = h.Chain.Miners[0];
        var other = h.Chain.Miners[1];
        var aggregator = await h.StartMinerAsync(us, "stalled");
        h.AddProver(aggregator, "gpu");
        var first = await h.SequenceAsync(2); // its proof is delayed: not handed to our generator yet
        var second = await h.SequenceAsync(1, aggregator);

        // Someone else opens a round for the second sequence; it runs out while the first is unproved.
        await h.Chain.SendAsync(other, h.Chain.Contracts.Rollup,
            RollupCalls.SubmitProofHash(second.InitNumBatch, second.FinalNewBatch, Abi.Keccak("other"u8)));
        var round = (await h.Reader.GetSequenceAsync(second.FinalNewBatch, default)).RoundStart;
        await SenderHarness.WaitUntilAsync(async () => await h.Reader.GetBlockNumberAsync(default) > round + 17, TimeSpan.FromSeconds(15),
            "the round to expire");
        var early = await h.EventsAsync();
        Assert.DoesNotContain(early.OfType<SubmitProofHashEvent>(), e => SenderHarness.Same(e.Prover, us.Address));

        // The predecessor's proof arrives: both are committed (in order, within the policy) and verified.
        await SenderHarness.AddToAsync(aggregator, first);
        await h.WaitForVerifiedAsync(second.FinalNewBatch, TimeSpan.FromSeconds(30));
        await SenderHarness.WaitUntilAsync(() => Task.FromResult(aggregator.Sender.Metrics.Count("sequence", "revealed") >= 2),
            TimeSpan.FromSeconds(10), "both reveals recorded");
        var events = await h.EventsAsync();
        Assert.DoesNotContain(events.OfType<SlashedEvent>(), e => SenderHarness.Same(e.Prover, us.Address));
        Assert.Equal(2, events.OfType<SubmitProofHashEvent>().Count(e => SenderHarness.Same(e.Prover, us.Address)));
        var paid = events.OfType<RewardPaidEvent>().Where(e => SenderHarness.Same(e.Prover, us.Address)).Aggregate(BigInteger.Zero, (s, e) => s + e.Amount);
        Assert.Equal(Wei.FromEther(2), paid);
    }

    [Fact]
    public async Task our_round_expiring_with_no_proof_is_committed_again_in_a_new_round()
    {
        await using var h = await SenderHarness.StartAsync(store);
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "own-round");
        var prover = h.AddProver(aggregator, "gpu");
        var sequence = await h.SequenceAsync(1, aggregator);

        // We commit, then are down for the whole round: nobody proves it.
        var round = await h.StopAfterCommitmentAsync(aggregator, prover, sequence.FinalNewBatch);
        await SenderHarness.WaitUntilAsync(async () => await h.Reader.GetBlockNumberAsync(default) > round + 16, TimeSpan.FromSeconds(15),
            "the round to end");

        aggregator = await h.StartMinerAsync(us, "own-round");
        await h.WaitForVerifiedAsync(sequence.FinalNewBatch, TimeSpan.FromSeconds(20));
        var events = await h.EventsAsync();
        var commits = events.OfType<SubmitProofHashEvent>().Where(e => SenderHarness.Same(e.Prover, us.Address)).ToList();
        Assert.Equal(2, commits.Count);
        Assert.True(commits[1].BlockNumber > round + 15);
        Assert.True((await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, us.Address, default)).Proved);

        // The downtime cost the unrevealed commitment of the first round (settled at our next hash), and nothing else.
        var slash = Assert.Single(events.OfType<SlashedEvent>());
        Assert.Equal(2, slash.Reason);
        Assert.Equal(Wei.FromEther(5), slash.Amount);

        // The restarted aggregator said so before that hash, and counted it.
        Assert.Equal(1, aggregator.Sender.Metrics.Count("sequence", "unrevealable"));
        if (!SenderHarness.LogsToConsole)
        {
            Assert.Contains($"Sequence {sequence.FinalNewBatch}: our commitment of the round from block {round} was not revealed", h.RecentLogsOf("own-round"),
                StringComparison.Ordinal);
        }
    }
}
