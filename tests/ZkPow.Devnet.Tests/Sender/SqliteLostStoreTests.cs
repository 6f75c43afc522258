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
        var ours = await h.StartMinerAsync(us, "lost");
        var prover = h.AddProver(ours, "us-gpu");
        var first = await h.SequenceAsync(1, ours);

        // We go down right after our hash is on chain, and nobody proves the sequence: the round ends with no proof.
        var round = await h.StopAfterCommitmentAsync(ours, prover, first.FinalNewBatch);
        await SenderHarness.WaitUntilAsync(async () => await h.Reader.GetBlockNumberAsync(default) > round + t1 + t2 + 1, TimeSpan.FromSeconds(20),
            "the round to end");
        Assert.False((await h.Reader.GetCommitmentAsync(first.FinalNewBatch, us.Address, default)).Proved);

        h.LoseStore("lost");
        ours = await h.StartMinerAsync(us, "lost");
        await SenderHarness.WaitUntilAsync(() => Task.FromResult(ours.Sender.Metrics.Count("sequence", "unrevealable") >= 1),
            TimeSpan.FromSeconds(20), "the unrevealable commitment counted");
        Assert.Equal(1, ours.Sender.Metrics.Count("sequence", "unrevealable"));
        if (!SenderHarness.LogsToConsole)
        {
            Assert.Contains($"Sequence {first.FinalNewBatch}: our commitment of the round from block {round}", h.RecentLogsOf("lost"),
                StringComparison.Ordinal);
        }
    }
}
