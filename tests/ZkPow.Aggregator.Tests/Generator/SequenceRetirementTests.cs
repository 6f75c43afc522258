using System.Diagnostics;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Protocol;
using ZkPow.Devnet.Proof;
using ZkPow.Devnet.Prover;

namespace ZkPow.Aggregator.Tests.Generator;

public sealed class SequenceRetirementTests
{
    [Fact]
    public async Task a_sequence_with_a_deadline_goes_before_lower_sequences()
    {
        await using var h = await GeneratorHarness.StartAsync();
        for (var i = 0; i < 3; i++)
        {
            await h.AddSequenceAsync(2);
        }

        var urgent = h.Sequences.Keys.Max();
        h.Generator.SetDeadline(urgent, 1_000);
        Assert.Equal(1_000UL, h.Generator.GetDeadline(urgent));

        var journal = h.Dir.File("journal.jsonl");
        h.AddProver("solo", o => o.JournalPath = journal);
        await h.WaitForFinalsAsync(3);
        var first = MockProverJournal.ReadAll(journal).First(e => e.Kind == "batch");
        Assert.True(first.NewBatch > urgent - 2, $"the first batch job was batch {first.NewBatch}");
    }

    [Fact]
    public async Task a_job_of_an_abandoned_sequence_is_cancelled_even_while_a_long_poll_holds_its_provers_one_request_lane()
    {
        // The prover honours GetProof's timeout (8 s): each poll of its 30 s job holds the session's one request lane
        // (the protocol is lockstep) for 8 s, and the cancel can only go out behind it.
        await using var h = await GeneratorHarness.StartAsync(sessions: new ProverSessionOptions { GetProofTimeout = TimeSpan.FromSeconds(8) });
        var prover = h.AddProver("long-poll", o => o.BatchLatency = TimeSpan.FromSeconds(30));
        var lost = await h.AddSequenceAsync(1);
        await GeneratorHarness.WaitUntilAsync(() => prover.Counters.BatchJobsStarted == 1, what: "the batch job started");
        var firstStarted = Stopwatch.StartNew();
        // The mock counts a GetProof when it answers it: once the first long poll is answered (8 s, still pending), the
        // session's next one holds the lane for 8 s more, and the cancel asked for now has to wait behind it.
        await GeneratorHarness.WaitUntilAsync(() => prover.Counters.GetProofRequests >= 1, what: "the first long poll answered");

        var abandon = h.Generator.AbandonSequenceAsync(lost.FinalNewBatch, "verified by another miner", default);
        // The caller (the rollup sync) is not held up while the cancel waits for the lane.
        await abandon.WaitAsync(TimeSpan.FromSeconds(4));
        Assert.Equal(1, await abandon);
        Assert.Equal(1, prover.Counters.GetProofRequests);

        await h.AddSequenceAsync(1);
        await GeneratorHarness.WaitUntilAsync(() => prover.Counters.BatchJobsStarted == 2, timeoutMs: 40_000, what: "the prover took the next job");
        Assert.True(firstStarted.ElapsedMilliseconds < 25_000, $"the next job started {firstStarted.ElapsedMilliseconds} ms after the first (its job takes 30 s)");
        Assert.Null(await h.Store.GetFinalProofAsync(lost.FinalNewBatch, default));
    }

    [Fact]
    public async Task abandoning_a_sequence_cancels_its_running_job_and_never_proves_it()
    {
        await using var h = await GeneratorHarness.StartAsync();
        // A prover that answers GetProof at once, as real provers do: one that holds a long poll holds the session's
        // one request lane until the poll ends, and the cancel goes out behind it.
        var prover = h.AddProver("slow", o =>
        {
            o.BatchLatency = TimeSpan.FromSeconds(5);
            o.HonourGetProofTimeout = false;
        });
        var lost = await h.AddSequenceAsync(1);
        await GeneratorHarness.WaitUntilAsync(() => prover.Counters.BatchJobsStarted == 1, what: "the batch job started");
        var firstStarted = Stopwatch.StartNew();
        await Task.Delay(100);

        var dropped = await h.Generator.AbandonSequenceAsync(lost.FinalNewBatch, "verified by another miner", default);
        Assert.Equal(1, dropped);

        // The cancelled job frees the prover before its 5 s latency would: the prover runs one job at a time, so its
        // second job can start only once the first is cancelled (or has ended). Counted from the first job's start.
        await h.AddSequenceAsync(1);
        await GeneratorHarness.WaitUntilAsync(() => prover.Counters.BatchJobsStarted == 2, timeoutMs: 10_000, what: "the prover took the next job");
        Assert.True(firstStarted.ElapsedMilliseconds < 4_500, $"the next job started {firstStarted.ElapsedMilliseconds} ms after the first");
        Assert.Null(await h.Store.GetFinalProofAsync(lost.FinalNewBatch, default));
        Assert.DoesNotContain(await h.Store.LoadOpenTasksAsync(default), t => t.Sequence == lost.FinalNewBatch);
    }

    [Fact]
    public async Task a_discarded_sequence_added_again_with_other_inputs_is_proved_afresh()
    {
        await using var h = await GeneratorHarness.StartAsync();
        h.AddProver("p1");
        h.AddProver("p2");
        var original = await h.AddSequenceAsync(3);
        await h.WaitForFinalsAsync(1);

        Assert.True(await h.Generator.DiscardSequenceAsync(original.FinalNewBatch, "reorg", default) > 0);
        Assert.Null(await h.Store.GetFinalProofAsync(original.FinalNewBatch, default));

        var replacement = new DevnetSequenceBuilder(new Random(99), "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", 1001, 6).FromGenesis(3);
        await h.Generator.AddSequenceAsync(GeneratorHarness.ToInput(replacement), default);
        await h.WaitForFinalsAsync(2);
        var stored = await h.Store.GetFinalProofAsync(replacement.FinalNewBatch, default);
        Assert.Equal(replacement.NewAccInputHash, stored!.NewAccInputHash);

        // Adding the same sequence again is still a no-op.
        await h.Generator.AddSequenceAsync(GeneratorHarness.ToInput(replacement), default);
        Assert.Equal(0, h.Generator.ReadyCount);
    }
}
