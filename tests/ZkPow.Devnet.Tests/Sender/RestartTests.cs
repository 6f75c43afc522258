using System.Numerics;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

public abstract class RestartTests(StoreKind store)
{
    [Fact]
    public async Task restarts_while_txs_are_in_flight_send_no_duplicate_and_get_nothing_slashed()
    {
        await using var h = await SenderHarness.StartAsync(store);
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "restart");
        var prover = h.AddProver(aggregator, "gpu");
        int[] sizes = [1, 2, 1];
        foreach (var size in sizes)
        {
            await h.SequenceAsync(size, aggregator);
        }

        // Stop right after the first hash is handed to the tx manager.
        await SenderHarness.WaitUntilAsync(() => Task.FromResult(aggregator.Sender.Metrics.Count("hash", "sent") >= 1), TimeSpan.FromSeconds(20),
            "a hash tx");
        await h.StopMinerAsync(aggregator);
        await h.StopProverAsync(prover);
        aggregator = await h.StartMinerAsync(us, "restart");
        prover = h.AddProver(aggregator, "gpu");

        // Stop right after a reveal is handed over.
        await SenderHarness.WaitUntilAsync(() => Task.FromResult(aggregator.Sender.Metrics.Count("proof", "sent") >= 1), TimeSpan.FromSeconds(20),
            "a reveal tx");
        await h.StopMinerAsync(aggregator);
        await h.StopProverAsync(prover);
        aggregator = await h.StartMinerAsync(us, "restart");
        h.AddProver(aggregator, "gpu");

        await h.WaitForVerifiedAsync(h.Sequences[^1].FinalNewBatch, TimeSpan.FromSeconds(30));
        await SenderHarness.WaitUntilAsync(async () =>
        {
            var all = await h.EventsAsync();
            return all.OfType<RewardPaidEvent>().Count() == sizes.Length;
        }, TimeSpan.FromSeconds(10), "every reward");
        var events = await h.EventsAsync();
        foreach (var sequence in h.Sequences)
        {
            Assert.Single(events.OfType<SubmitProofHashEvent>(), e => e.FinalNewBatch == sequence.FinalNewBatch && SenderHarness.Same(e.Prover, us.Address));
            Assert.Single(events.OfType<VerifyBatchesEvent>(), e => e.NumBatch == sequence.FinalNewBatch);
        }

        Assert.Empty(events.OfType<SlashedEvent>());
        var paid = events.OfType<RewardPaidEvent>().Aggregate(BigInteger.Zero, (s, e) => s + e.Amount);
        Assert.Equal(new BigInteger(sizes.Length) * Wei.FromEther(1), paid);
    }

    [Theory]
    [InlineData("hash sent")]
    [InlineData("hash mined")]
    [InlineData("proof window open")]
    [InlineData("reveal sent")]
    public async Task a_restart_at_any_step_completes_the_sequences_without_duplicate_or_slash(string step)
    {
        await using var h = await SenderHarness.StartAsync(store);
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "step");
        var prover = h.AddProver(aggregator, "gpu");
        var first = await h.SequenceAsync(1, aggregator);
        await h.SequenceAsync(2, aggregator);

        var metrics = aggregator.Sender.Metrics;
        Func<Task<bool>> reached = step switch
        {
            "hash sent" => () => Task.FromResult(metrics.Count("hash", "sent") >= 1),
            "hash mined" => async () => (await h.Reader.GetCommitmentAsync(first.FinalNewBatch, us.Address, default)).Exists,
            "proof window open" => InProofWindowAsync,
            _ => () => Task.FromResult(metrics.Count("proof", "sent") >= 1),
        };
        await SenderHarness.WaitUntilAsync(reached, TimeSpan.FromSeconds(20), step);

        async Task<bool> InProofWindowAsync()
        {
            var commitment = await h.Reader.GetCommitmentAsync(first.FinalNewBatch, us.Address, default);
            return commitment.Exists && await h.Reader.GetBlockNumberAsync(default) >= commitment.RoundStart + 5;
        }

        await h.StopMinerAsync(aggregator);
        await h.StopProverAsync(prover);

        aggregator = await h.StartMinerAsync(us, "step");
        h.AddProver(aggregator, "gpu");
        await h.WaitForVerifiedAsync(h.Sequences[^1].FinalNewBatch, TimeSpan.FromSeconds(30));
        await SenderHarness.WaitUntilAsync(async () => (await h.EventsAsync()).OfType<RewardPaidEvent>().Count() == 2, TimeSpan.FromSeconds(10),
            "both rewards");

        var events = await h.EventsAsync();
        foreach (var sequence in h.Sequences)
        {
            Assert.Single(events.OfType<SubmitProofHashEvent>(), e => e.FinalNewBatch == sequence.FinalNewBatch);
            Assert.Single(events.OfType<VerifyBatchesEvent>(), e => e.NumBatch == sequence.FinalNewBatch);
        }

        Assert.Empty(events.OfType<SlashedEvent>());
        Assert.Equal(2 * Wei.FromEther(1), events.OfType<RewardPaidEvent>().Aggregate(BigInteger.Zero, (s, e) => s + e.Amount));
    }
}
