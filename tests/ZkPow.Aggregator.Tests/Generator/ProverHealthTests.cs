using ZkPow.Aggregator.Generator;

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
}
