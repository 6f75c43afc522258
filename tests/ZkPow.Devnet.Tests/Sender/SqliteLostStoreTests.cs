using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Faults;
using ZkPow.Devnet.Proof;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary><see cref="LostStoreTests"/> on SQLite, and what a lost store cannot save (store-independent, so here only).</summary>
public sealed class SqliteLostStoreTests() : LostStoreTests(StoreKind.Sqlite)
{
    [Fact]
    public async Task a_lost_store_reports_a_commitment_of_ours_whose_round_ended_with_no_proof_as_unrevealable()
    {
        const byte t1 = 5, t2 = 5;
        await using var h = await SenderHarness.StartAsync(StoreKind.Sqlite, t1, t2);
        var us = h.Chain.Miners[0];

        // We go down right after our hash is on chain, and nobody proves the sequence: the round ends with no proof.
        var (first, round) = await CommitThenGoDownAsync(h, us);
        await SenderHarness.WaitUntilAsync(async () => await h.Reader.GetBlockNumberAsync(default) > round + t1 + t2 + 1, TimeSpan.FromSeconds(20),
            "the round to end");
        Assert.False((await h.Reader.GetCommitmentAsync(first.FinalNewBatch, us.Address, default)).Proved);

        h.LoseStore("lost");
        var ours = await h.StartMinerAsync(us, "lost");
        await SenderHarness.WaitUntilAsync(() => Task.FromResult(ours.Sender.Metrics.Count("sequence", "unrevealable") >= 1),
            TimeSpan.FromSeconds(20), "the unrevealable commitment counted");
        Assert.Equal(1, ours.Sender.Metrics.Count("sequence", "unrevealable"));
        if (!SenderHarness.LogsToConsole)
        {
            Assert.Contains($"Sequence {first.FinalNewBatch}: our commitment of the round from block {round}", h.RecentLogsOf("lost"),
                StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task a_lost_store_is_rebuilt_and_our_commitment_revealed_while_the_node_fails_calls()
    {
        // A wide proof window: the restart and the re-proof go through a node that fails and stalls.
        const byte t1 = 5, t2 = 60;
        await using var h = await SenderHarness.StartAsync(StoreKind.Sqlite, t1, t2);
        var us = h.Chain.Miners[0];
        var (first, round) = await CommitThenGoDownAsync(h, us);
        h.LoseStore("lost");

        // The restart, its start-up recovery included, reaches the chain through a proxy that gives a fault to 30 % of the
        // calls: 503s, 429s, JSON-RPC errors, stalls, lost replies, answers from 3 blocks back, receipts left out.
        await using var proxy = await RpcFaultProxy.StartAsync(new RpcFaultProxyOptions
        {
            Upstream = new Uri(h.Chain.RpcUrl),
            Rate = 0.3,
            Seed = 11,
            StallMin = TimeSpan.FromMilliseconds(200),
            StallMax = TimeSpan.FromMilliseconds(800),
        });
        var ours = await h.StartMinerAsync(us, "lost", rpcUrl: proxy.Url);
        var injectedByStart = proxy.Injected;
        Assert.True(injectedByStart > 0, $"no fault injected while the aggregator started ({proxy.Requests} requests)");
        if (!SenderHarness.LogsToConsole)
        {
            Assert.Contains("1 live commitments of ours rebuilt from the chain", h.RecentLogsOf("lost"), StringComparison.Ordinal);
        }

        h.AddProver(ours, "us-gpu");
        await SenderHarness.AddToAsync(ours, first);
        await SenderHarness.WaitUntilAsync(async () => (await h.Reader.GetCommitmentAsync(first.FinalNewBatch, us.Address, default)).Proved
                || (await h.EventsAsync()).OfType<SlashedEvent>().Any(e => SenderHarness.Same(e.Prover, us.Address)),
            TimeSpan.FromSeconds(60), "our reveal of the rebuilt commitment (or a slash)");

        var events = await h.EventsAsync();
        var slashes = events.OfType<SlashedEvent>().Where(e => SenderHarness.Same(e.Prover, us.Address)).ToList();
        Assert.True(slashes.Count == 0,
            $"slashed: {string.Join("; ", slashes)}\nfaults: {proxy.Describe()}\nthe restarted aggregator's last log lines:\n{h.RecentLogsOf("lost")}");
        Assert.Equal(round, (await h.Reader.GetSequenceAsync(first.FinalNewBatch, default)).RoundStart);
        Assert.Single(events.OfType<RewardPaidEvent>(), e => SenderHarness.Same(e.Prover, us.Address));
        Assert.Single(events.OfType<SubmitProofHashEvent>(), e => e.FinalNewBatch == first.FinalNewBatch && SenderHarness.Same(e.Prover, us.Address));
        Assert.True(proxy.Injected > injectedByStart, "no fault injected after the start");
    }

    /// <summary>Our aggregator (store "lost") with one prover commits to a one-batch sequence, then goes down right after
    /// its hash is on chain. Returns the sequence and the block its round started at.</summary>
    private static async Task<(DevnetSequence First, ulong Round)> CommitThenGoDownAsync(SenderHarness h, DevAccount us)
    {
        var ours = await h.StartMinerAsync(us, "lost");
        var prover = h.AddProver(ours, "us-gpu");
        var first = await h.SequenceAsync(1, ours);
        return (first, await h.StopAfterCommitmentAsync(ours, prover, first.FinalNewBatch));
    }
}
