using ZkPow.Aggregator.Tests.Storage;

namespace ZkPow.Aggregator.Tests.Generator;

/// <summary>
/// Two Proof Generators on one PostgreSQL database stand for two aggregator replicas (each with its own store, so its
/// own connection pool and owner id, its own prover port and mock provers): the work one replica stores is announced by
/// the database and served by the other, and a task is requested only by the replica whose claim won.
/// </summary>
public sealed class ReplicaGeneratorTests : IDisposable
{
    private readonly PostgresTarget _target = new();

    public void Dispose() => _target.Dispose();

    private static void Quick(ZkPow.Devnet.Prover.MockProverOptions o) =>
        o.BatchLatency = o.AggregateLatency = o.FinalLatency = TimeSpan.FromMilliseconds(10);

    private async Task WaitForStoredFinalsAsync(GeneratorHarness h, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        long stored;
        while ((stored = await h.Store.CountFinalProofsAsync(CancellationToken.None)) < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{stored} of {count} final proofs stored within 60 s");
            }

            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task provers_of_a_replica_that_never_saw_the_sequences_prove_them()
    {
        await using var synced = await GeneratorHarness.StartAsync(target: _target);
        await using var standby = await GeneratorHarness.StartAsync(target: _target);
        for (var i = 0; i < 3; i++)
        {
            standby.AddProver($"p{i}", Quick);
        }

        for (var i = 0; i < 3; i++)
        {
            await synced.AddSequenceAsync(4);
        }

        await WaitForStoredFinalsAsync(synced, 3);
        // A task is counted just after its proof is stored: waited for, then compared exactly (a double count fails).
        await GeneratorHarness.WaitUntilAsync(() => synced.Generator.Metrics.CompletedTotal + standby.Generator.Metrics.CompletedTotal >= 3 * 8,
            60_000, "every completed task counted");
        // 3 sequences of 4 batches: 4 batches, 3 aggregations and 1 final each, all run by the replica the provers dialled.
        Assert.Equal(3 * 8, standby.Generator.Metrics.CompletedTotal);
        Assert.Equal(0, synced.Generator.Metrics.CompletedTotal);
        // Only the replica with provers claims: it never loses a claim, not even to a notification of its own tasks.
        Assert.Equal(0, standby.Generator.Metrics.ClaimsLost);
        Assert.Empty(await synced.Store.LoadOpenTasksAsync(CancellationToken.None));
    }

    [Fact]
    public async Task provers_on_two_replicas_share_the_work_and_no_task_is_requested_twice()
    {
        await using var first = await GeneratorHarness.StartAsync(target: _target);
        await using var second = await GeneratorHarness.StartAsync(target: _target);
        var provers = new List<ZkPow.Devnet.Prover.MockProver>();
        for (var i = 0; i < 3; i++)
        {
            provers.Add(first.AddProver($"a{i}", Quick));
            provers.Add(second.AddProver($"b{i}", Quick));
        }

        const int sequences = 12;
        var batches = 0;
        var random = new Random(5);
        for (var i = 0; i < sequences; i++)
        {
            var n = random.Next(1, 7);
            batches += n;
            await first.AddSequenceAsync(n);
        }

        await WaitForStoredFinalsAsync(first, sequences);
        await GeneratorHarness.WaitUntilAsync(() => first.Generator.Metrics.CompletedTotal + second.Generator.Metrics.CompletedTotal >= 2 * batches,
            60_000, "every completed task counted");
        Assert.True(first.Generator.Metrics.CompletedTotal > 0, "the first replica's provers got work");
        Assert.True(second.Generator.Metrics.CompletedTotal > 0, "the second replica's provers got work");
        Assert.Equal(2 * batches, first.Generator.Metrics.CompletedTotal + second.Generator.Metrics.CompletedTotal);
        // Every request follows a claim that won: each batch, aggregation and final was requested exactly once.
        Assert.Equal(batches, provers.Sum(p => p.Counters.BatchJobsStarted));
        Assert.Equal(batches - sequences, provers.Sum(p => p.Counters.AggregatedJobsStarted));
        var finals = provers.SelectMany(p => p.Counters.FinalProofRequestsByRange()).GroupBy(r => r.Key).ToList();
        Assert.Equal(sequences, finals.Count);
        Assert.All(finals, g => Assert.Equal(1, g.Sum(r => r.Value)));
    }
}
