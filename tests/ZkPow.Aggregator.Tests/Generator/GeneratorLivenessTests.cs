using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Tests.Generator;

public sealed class GeneratorLivenessTests
{
    [Fact]
    public async Task after_a_restart_a_running_job_waits_for_its_prover_from_the_moment_the_prover_port_opens()
    {
        using var dir = new TempDir();
        var options = new GeneratorOptions { ReconnectGrace = TimeSpan.FromSeconds(2), Lease = TimeSpan.FromSeconds(1) };
        var first = await GeneratorHarness.StartAsync(options, dir: dir);
        var port = first.Server.Port;
        var prover = first.AddProver("keeper", o =>
        {
            o.InstanceId = "keeper-1";
            o.BatchLatency = TimeSpan.FromSeconds(3);
        });
        var sequence = await first.AddSequenceAsync(1);
        await GeneratorHarness.WaitUntilAsync(() => prover.Counters.BatchJobsStarted == 1, what: "the batch job started");
        await first.DisposeAsync(keepDir: true, keepProvers: true);

        // The restarted aggregator spends longer than the grace (and the lease) on start-up work before its prover port
        // opens: the prover could not have come back earlier, so its job must still be waiting for it.
        await using var second = await GeneratorHarness.StartAsync(options, dir: dir, port: port, listenAfter: TimeSpan.FromSeconds(5));
        await second.WaitForFinalsAsync(1);
        await prover.StopAsync();
        await prover.DisposeAsync();

        Assert.Equal(1, prover.Counters.BatchJobsStarted);
        Assert.Equal(1, prover.Counters.FinalProofRequests(sequence.InitNumBatch, sequence.FinalNewBatch));
    }
}
