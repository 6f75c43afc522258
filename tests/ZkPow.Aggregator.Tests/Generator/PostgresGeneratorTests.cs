using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Protocol;
using ZkPow.Aggregator.Tests.Protocol;
using ZkPow.Aggregator.Tests.Storage;
using ZkPow.Devnet.Prover;

namespace ZkPow.Aggregator.Tests.Generator;

/// <summary>
/// A representative subset of <see cref="ProofGeneratorTests"/> with the real generator, real gRPC and mock provers on
/// the PostgreSQL store: proving to the final proof, many sequences at once, provers coming and going, a lease that
/// expires (kept in the database's clock), parking, and a restart that adopts a running job.
/// </summary>
public sealed class PostgresGeneratorTests : IDisposable
{
    private readonly PostgresTarget _target = new();

    public void Dispose() => _target.Dispose();

    private Task<GeneratorHarness> StartAsync(GeneratorOptions? options = null, TempDir? dir = null, int port = 0) =>
        GeneratorHarness.StartAsync(options, dir: dir, port: port, target: _target);

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(8)]
    public async Task a_sequence_of_n_batches_ends_in_the_devnet_final_proof(int batches)
    {
        await using var h = await StartAsync();
        for (var i = 0; i < 4; i++)
        {
            h.AddProver($"p{i}");
        }

        var sequence = await h.AddSequenceAsync(batches);
        await h.WaitForFinalsAsync(1);
        var stored = await h.Store.GetFinalProofAsync(sequence.FinalNewBatch, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(HexData.Encode(sequence.ToFinalProof(GeneratorHarness.Miner).Encode()), stored.Proof, ignoreCase: true);
        Assert.Equal(sequence.NewStateRoot, stored.NewStateRoot);
        Assert.Empty(await h.Store.LoadOpenTasksAsync(CancellationToken.None));
    }

    [Fact]
    public async Task many_sequences_are_proved_concurrently()
    {
        await using var h = await StartAsync();
        for (var i = 0; i < 6; i++)
        {
            h.AddProver($"p{i}", o => o.BatchLatency = o.AggregateLatency = o.FinalLatency = TimeSpan.FromMilliseconds(20));
        }

        var random = new Random(3);
        for (var i = 0; i < 20; i++)
        {
            await h.AddSequenceAsync(random.Next(1, 9));
        }

        await h.WaitForFinalsAsync(20, timeoutMs: 60_000);
        Assert.Equal(20, await h.Store.CountFinalProofsAsync(CancellationToken.None));
        Assert.Equal(h.Sequences.Keys.Order(), h.Finals.Select(f => f.FinalBatch).Order());
    }

    [Fact]
    public async Task provers_joining_and_leaving_mid_run_lose_no_sequence()
    {
        await using var h = await StartAsync(new GeneratorOptions { ReconnectGrace = TimeSpan.FromMilliseconds(200) });
        static void Slow(MockProverOptions o) => o.BatchLatency = o.AggregateLatency = o.FinalLatency = TimeSpan.FromMilliseconds(40);
        var first = h.AddProver("early-1", Slow);
        h.AddProver("early-2", Slow);
        for (var i = 0; i < 8; i++)
        {
            await h.AddSequenceAsync(4);
        }

        await GeneratorHarness.WaitUntilAsync(() => h.Generator.Metrics.CompletedTotal >= 10, what: "some progress");
        h.AddProver("late-1", Slow);
        h.AddProver("late-2", Slow);
        await h.StopProverAsync(first);
        await h.WaitForFinalsAsync(8, timeoutMs: 60_000);
        Assert.Equal(8, await h.Store.CountFinalProofsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task a_job_whose_prover_vanishes_goes_to_another_prover_when_its_lease_expires()
    {
        await using var h = await StartAsync(new GeneratorOptions { ReconnectGrace = TimeSpan.FromMilliseconds(300) });
        var accepted = 0;
        ScriptedProver? vanishing = null;
        vanishing = new ScriptedProver(h.Server.Address, r =>
        {
            if (r.RequestCase == AggregatorMessage.RequestOneofCase.GenBatchProofRequest)
            {
                Interlocked.Increment(ref accepted);
                return new ProverMessage { Id = r.Id, GenBatchProofResponse = new GenBatchProofResponse { Id = "held-job", Result = Result.Ok } };
            }

            if (r.RequestCase == AggregatorMessage.RequestOneofCase.GetProofRequest)
            {
                vanishing!.Drop();
                return null;
            }

            return ScriptedProver.Status(r, "vanishing", "v-1");
        });
        await using (vanishing)
        {
            await h.AddSequenceAsync(1);
            await GeneratorHarness.WaitUntilAsync(() => accepted == 1, what: "the vanishing prover took the job");
            h.AddProver("steady");
            await h.WaitForFinalsAsync(1);
        }

        var counts = await h.Store.CountTasksAsync(CancellationToken.None);
        Assert.Equal(1, counts[(TaskKind.Batch, TaskState.Done)]);
        Assert.True(h.Generator.Metrics.Retries >= 1);
    }

    [Fact]
    public async Task a_task_that_keeps_failing_is_parked_with_its_last_error()
    {
        await using var h = await StartAsync(new GeneratorOptions { MaxAttempts = 3 });
        var prover = h.AddProver("broken", o => o.FailureRate = 1.0);
        await h.AddSequenceAsync(1);
        await GeneratorHarness.WaitUntilAsync(() => h.Generator.Metrics.Parks == 1, what: "the task parked");
        var parked = Assert.Single(await h.Store.ListParkedAsync(CancellationToken.None));
        Assert.Equal((TaskKind.Batch, 3), (parked.Kind, parked.Attempts));
        Assert.Contains("RESULT_COMPLETED_ERROR", parked.LastError);
        await Task.Delay(200);
        Assert.Equal(3, prover.Counters.BatchJobsStarted);
    }

    [Fact]
    public async Task a_restarted_generator_adopts_the_job_its_prover_instance_is_still_computing()
    {
        using var dir = new TempDir();
        var first = await StartAsync(dir: dir);
        var port = first.Server.Port;
        var prover = first.AddProver("keeper", o =>
        {
            o.InstanceId = "keeper-1";
            o.BatchLatency = TimeSpan.FromSeconds(2);
        });
        var sequence = await first.AddSequenceAsync(1);
        await GeneratorHarness.WaitUntilAsync(() => prover.Counters.BatchJobsStarted == 1, what: "the batch job started");
        await Task.Delay(200);
        // The aggregator goes away while the prover computes; the prover keeps its job and dials back to a new
        // aggregator on the same database.
        await first.DisposeAsync(keepDir: true, keepProvers: true);
        await using var second = await StartAsync(dir: dir, port: port);
        await second.WaitForFinalsAsync(1);
        await prover.StopAsync();
        await prover.DisposeAsync();

        Assert.Equal(1, prover.Counters.BatchJobsStarted);
        Assert.Equal(1, prover.Counters.FinalProofRequests(sequence.InitNumBatch, sequence.FinalNewBatch));
        Assert.NotNull(await second.Store.GetFinalProofAsync(sequence.FinalNewBatch, CancellationToken.None));
    }
}
