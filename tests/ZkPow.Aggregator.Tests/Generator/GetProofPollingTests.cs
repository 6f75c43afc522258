using ZkPow.Aggregator.Protocol;
using ZkPow.Devnet.Prover;

namespace ZkPow.Aggregator.Tests.Generator;

/// <summary>How the sessions fetch proofs: one long poll per job from provers that honour GetProof's timeout, adaptive
/// polling from provers that answer at once (as real provers do), with jobs of varying length on provers of different speeds.</summary>
public sealed class GetProofPollingTests
{
    [Fact]
    public async Task a_prover_that_honours_the_get_proof_timeout_is_asked_once_per_job()
    {
        await using var h = await GeneratorHarness.StartAsync();
        var prover = h.AddProver("long-poll", o =>
        {
            o.BatchLatency = o.AggregateLatency = o.FinalLatency = TimeSpan.FromMilliseconds(150);
            o.LatencyJitter = 0.3;
            o.Seed = 5;
        });
        await h.AddSequenceAsync(3);
        await h.WaitForFinalsAsync(1);

        var jobs = prover.Counters.BatchJobsStarted + prover.Counters.AggregatedJobsStarted + prover.Counters.FinalJobsStarted;
        Assert.Equal(6, jobs);
        Assert.Equal(jobs, prover.Counters.GetProofRequests);
        Assert.Equal(0, h.Generator.Metrics.Retries);
    }

    [Fact]
    public async Task provers_that_ignore_the_timeout_are_polled_and_jittered_jobs_on_provers_of_different_speeds_all_complete()
    {
        await using var h = await GeneratorHarness.StartAsync(sessions: new ProverSessionOptions { GetProofTimeout = TimeSpan.FromSeconds(5) });
        var provers = new List<MockProver>();
        foreach (var (name, speed) in new[] { ("slow", 1.0), ("fast", 4.0) })
        {
            provers.Add(h.AddProver(name, o =>
            {
                o.BatchLatency = o.AggregateLatency = o.FinalLatency = TimeSpan.FromMilliseconds(80);
                o.LatencyJitter = 0.3;
                o.Speed = speed;
                o.Seed = name.Length;
                o.HonourGetProofTimeout = false;
                o.RecordTimings = true;
            }));
        }

        for (var i = 0; i < 3; i++)
        {
            await h.AddSequenceAsync(4);
        }

        await h.WaitForFinalsAsync(3);
        Assert.Equal(0, h.Generator.Metrics.Retries);
        var timings = provers.SelectMany(p => p.JobTimings()).ToList();
        Assert.Equal(3 * 2 * 4, timings.Count);
        var jobs = provers.Sum(p => p.Counters.BatchJobsStarted + p.Counters.AggregatedJobsStarted + p.Counters.FinalJobsStarted);
        Assert.True(provers.Sum(p => p.Counters.GetProofRequests) > jobs, "the provers answered at once, so some jobs were polled more than once");

        // The drawn times vary, and each prover's speed divides them.
        Assert.True(timings.Select(t => t.Work).Distinct().Count() > timings.Count / 2, "the jobs' times were not drawn");
        foreach (var (prover, speed) in provers.Zip(new[] { 1.0, 4.0 }))
        {
            Assert.All(prover.JobTimings(), t => Assert.Equal(t.Work.Ticks / speed, t.Duration.Ticks, 1.0));
        }
    }
}
