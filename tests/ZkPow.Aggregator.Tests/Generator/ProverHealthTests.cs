using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Protocol;
using ZkPow.Aggregator.Tests.Protocol;

namespace ZkPow.Aggregator.Tests.Generator;

public sealed class ProverHealthTests
{
    [Fact]
    public async Task a_prover_failing_every_job_is_quarantined_and_no_task_is_parked_while_a_good_prover_exists()
    {
        // One attempt would park a task at its first failure if the prover it failed on were not taken into account.
        await using var h = await GeneratorHarness.StartAsync(new GeneratorOptions
        {
            MaxAttempts = 1,
            QuarantineAfter = 3,
            QuarantineBase = TimeSpan.FromMinutes(10),
        });
        var broken = h.AddProver("broken", o => o.FailureRate = 1.0);
        await GeneratorHarness.WaitUntilAsync(() => h.Generator.ConnectedProvers().Count == 1, what: "the broken prover connected");
        var good = h.AddProver("good", o => o.BatchLatency = TimeSpan.FromMilliseconds(200));
        await GeneratorHarness.WaitUntilAsync(() => h.Generator.ConnectedProvers().Count == 2, what: "the good prover connected");
        for (var i = 0; i < 4; i++)
        {
            await h.AddSequenceAsync(1);
        }

        await h.WaitForFinalsAsync(4, timeoutMs: 60_000);
        Assert.Equal(0, h.Generator.Metrics.Parks);
        var quarantined = Assert.Single(h.Generator.Quarantined);
        Assert.Equal(("broken", 3), (quarantined.Name, quarantined.Failures));
        Assert.Contains("RESULT_COMPLETED_ERROR", quarantined.LastError);
        // No job went to the broken prover once it was quarantined.
        Assert.Equal(3, broken.Counters.BatchJobsStarted + broken.Counters.AggregatedJobsStarted + broken.Counters.FinalJobsStarted);

        var status = h.Generator.ConnectedProvers().ToDictionary(p => p.Name);
        Assert.True(status["broken"].Quarantined);
        Assert.Equal((0, 3), (status["broken"].JobsDone, status["broken"].JobsFailed));
        Assert.False(status["good"].Quarantined);
        Assert.Equal(8, status["good"].JobsDone);
        Assert.Equal(0, status["good"].JobsFailed);
        Assert.Equal(4, good.Counters.BatchJobsStarted);
    }

    [Fact]
    public async Task aggregations_and_finals_are_not_given_to_a_prover_whose_last_job_failed_while_one_without_failures_is_connected()
    {
        // No quarantine here: only the failure of its last job keeps the flaky prover off the sequence's chain.
        await using var h = await GeneratorHarness.StartAsync(new GeneratorOptions { QuarantineAfter = 100, MaxAttempts = 100 });
        var flaky = h.AddProver("flaky", o => o.FailureRate = 1.0);
        var good = h.AddProver("good", o =>
        {
            o.BatchLatency = TimeSpan.FromMilliseconds(300);
            o.AggregateLatency = o.FinalLatency = TimeSpan.FromMilliseconds(50);
        });
        await GeneratorHarness.WaitUntilAsync(() => h.Generator.WaitingProvers == 2 && h.Generator.ConnectedProvers().Count == 2,
            what: "both provers to wait for work");

        // Both wait, so each gets one of the two batches: the flaky one fails its own, which then goes to the good one
        // (the task avoids the prover it failed on). The aggregation and the final become ready while the flaky prover
        // waits and the good one is busy or just done: they wait for the good one.
        await h.AddSequenceAsync(2);
        await h.WaitForFinalsAsync(1, timeoutMs: 60_000);

        Assert.Equal(1, flaky.Counters.BatchJobsStarted);
        Assert.Equal((0L, 0L), (flaky.Counters.AggregatedJobsStarted, flaky.Counters.FinalJobsStarted));
        Assert.Equal("good", Assert.Single(h.Finals).ProverName);
        Assert.Equal((2L, 1L, 1L), (good.Counters.BatchJobsStarted, good.Counters.AggregatedJobsStarted, good.Counters.FinalJobsStarted));
        Assert.Equal(0, h.Generator.Metrics.Parks);
    }

    [Fact]
    public async Task a_prover_whose_proofs_two_provers_could_not_use_is_quarantined_at_once_and_nothing_is_parked()
    {
        // Failures in a row alone would never quarantine anyone here: only the blame for unusable proofs does.
        await using var h = await GeneratorHarness.StartAsync(new GeneratorOptions
        {
            QuarantineAfter = 100,
            QuarantineBase = TimeSpan.FromMinutes(10),
        });
        // The junk prover proves the only batch at once and takes its final, which fails (slowly) on the junk input;
        // meanwhile good provers connect, the final fails on one of them too, and the range is proved again.
        var junk = h.AddProver("junk", o =>
        {
            o.Misbehaviour = ZkPow.Devnet.Prover.MockProverMisbehaviour.JunkRecursiveProof;
            o.FinalLatency = TimeSpan.FromSeconds(3);
        });
        await GeneratorHarness.WaitUntilAsync(() => h.Generator.ConnectedProvers().Count == 1, what: "the junk prover connected");
        await h.AddSequenceAsync(1);
        await GeneratorHarness.WaitUntilAsync(() => junk.Counters.FinalJobsStarted >= 1, what: "the junk prover took the final");
        h.AddProver("good-1");
        h.AddProver("good-2");

        await h.WaitForFinalsAsync(1, timeoutMs: 60_000);
        Assert.Equal(0, h.Generator.Metrics.Parks);
        var quarantined = Assert.Single(h.Generator.Quarantined);
        Assert.Equal("junk", quarantined.Name);
        Assert.Contains("unusable inputs", quarantined.LastError);
        // The final proof chains from proofs of the good provers only.
        Assert.NotEqual("junk", Assert.Single(h.Finals).ProverName);
    }

    [Fact]
    public async Task a_task_is_parked_once_its_attempts_are_used_up_on_two_different_provers()
    {
        await using var h = await GeneratorHarness.StartAsync(new GeneratorOptions { MaxAttempts = 2, QuarantineAfter = 100 });
        h.AddProver("broken-1", o => o.FailureRate = 1.0);
        h.AddProver("broken-2", o => o.FailureRate = 1.0);
        await GeneratorHarness.WaitUntilAsync(() => h.Generator.ConnectedProvers().Count == 2, what: "both provers connected");
        await h.AddSequenceAsync(1);

        await GeneratorHarness.WaitUntilAsync(() => h.Generator.Metrics.Parks == 1, what: "the task parked");
        var parked = Assert.Single(await h.Store.ListParkedAsync(CancellationToken.None));
        // Its retry went to the other prover, and it was parked only once it had failed on both.
        Assert.Equal(["broken-1", "broken-2"], parked.FailedOn.Distinct().Order());
        Assert.True(parked.Attempts >= 2);
    }

    [Fact]
    public async Task re_proving_a_range_is_bounded_per_sequence_after_which_the_task_is_parked()
    {
        await using var h = await GeneratorHarness.StartAsync(new GeneratorOptions { MaxReprovesPerSequence = 0 });
        // The liar answers every batch job with a proof text that no prover can aggregate.
        var jobs = 0;
        var liar = new ScriptedProver(h.Server.Address, r => r.RequestCase switch
        {
            AggregatorMessage.RequestOneofCase.GenBatchProofRequest => new ProverMessage
            {
                Id = r.Id,
                GenBatchProofResponse = new GenBatchProofResponse { Id = $"lie-{Interlocked.Increment(ref jobs)}", Result = Result.Ok },
            },
            AggregatorMessage.RequestOneofCase.GetProofRequest => new ProverMessage
            {
                Id = r.Id,
                GetProofResponse = new GetProofResponse { Id = r.GetProofRequest.Id, Result = GetProofResponse.Types.Result.CompletedOk, RecursiveProof = "{\"not\":\"a proof\"}" },
            },
            _ => ScriptedProver.Status(r, "liar", "liar-1"),
        });
        await h.AddSequenceAsync(2);
        await GeneratorHarness.WaitUntilAsync(() => h.Generator.Metrics.Completed(TaskKind.Batch) == 2, what: "the liar proved both batches");
        await liar.DisposeAsync();
        h.AddProver("honest-1");
        h.AddProver("honest-2");

        await GeneratorHarness.WaitUntilAsync(() => h.Generator.Metrics.Parks == 1, what: "the aggregation parked");
        var parked = Assert.Single(await h.Store.ListParkedAsync(CancellationToken.None));
        Assert.Equal(TaskKind.Aggregate, parked.Kind);
        Assert.Contains("Generator:MaxReprovesPerSequence", parked.LastError);
        Assert.Equal(2, jobs);
    }
}
