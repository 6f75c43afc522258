using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Protocol;
using ZkPow.Aggregator.Tests.Protocol;
using ZkPow.Aggregator.Tests.Storage;
using ZkPow.Devnet.Proof;
using ZkPow.Devnet.Prover;

namespace ZkPow.Aggregator.Tests.Generator;

/// <summary>The real generator, real gRPC and mock provers, on each store (<see cref="SqliteProofGeneratorTests"/>,
/// <see cref="PostgresProofGeneratorTests"/>; a database per test).</summary>
public abstract class ProofGeneratorTests(StoreTarget target) : IDisposable
{
    private StoreTarget Target { get; } = target;

    public void Dispose()
    {
        Target.Dispose();
        GC.SuppressFinalize(this);
    }

    private Task<GeneratorHarness> StartAsync(GeneratorOptions? options = null, TempDir? dir = null, int port = 0) =>
        GeneratorHarness.StartAsync(options, dir: dir, port: port, target: Target);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(16)]
    public async Task a_sequence_of_n_batches_ends_in_the_devnet_final_proof_through_a_log_depth_tree(int batches)
    {
        await using var h = await StartAsync();
        var provers = Enumerable.Range(0, 4).Select(i => h.AddProver($"p{i}")).ToList();
        var sequence = await h.AddSequenceAsync(batches);
        await h.WaitForFinalsAsync(1);

        var stored = await h.Store.GetFinalProofAsync(sequence.FinalNewBatch, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(HexData.Encode(sequence.ToFinalProof(GeneratorHarness.Miner).Encode()), stored.Proof, ignoreCase: true);
        Assert.Equal(sequence.NewStateRoot, stored.NewStateRoot);
        Assert.Equal(sequence.NewLocalExitRoot, stored.NewLocalExitRoot);
        Assert.Equal(GeneratorHarness.Miner, stored.AggregatorAddress);

        var aggregations = await AggregatedRangesAsync(sequence.FinalNewBatch);
        Assert.Equal(batches - 1, aggregations.Count);
        var depth = sequence.Batches.Max(b => aggregations.Count(a => a.From < b.Number && b.Number <= a.To));
        Assert.Equal(AggregationTree.Depth((ulong)batches), depth);
        Assert.Equal(batches, provers.Sum(p => p.Counters.BatchJobsStarted));
        Assert.Equal(1, provers.Sum(p => p.Counters.FinalProofRequests(sequence.InitNumBatch, sequence.FinalNewBatch)));
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
        for (var i = 0; i < 30; i++)
        {
            await h.AddSequenceAsync(random.Next(1, 9));
        }

        await h.WaitForFinalsAsync(30, timeoutMs: 60_000);
        Assert.Equal(30, await h.Store.CountFinalProofsAsync(CancellationToken.None));
        Assert.Equal(h.Sequences.Keys.Order(), h.Finals.Select(f => f.FinalBatch).Order());
    }

    [Fact]
    public async Task a_final_proof_that_a_reader_can_see_before_its_announcement_is_marked_as_being_stored_until_announced()
    {
        // The Proof Manager lists stored final proofs now and then besides hearing of each one as it is stored; a proof
        // it lists in between would go to the sender unstamped, and its hash broadcast latency would go unmeasured.
        await using var h = await StartAsync();
        var seen = new List<(ulong Final, bool Listed, bool Storing)>();
        h.Generator.FinalProofStored += record =>
        {
            var listed = h.Store.ListUnsentFinalProofsAsync(CancellationToken.None).GetAwaiter().GetResult().Contains(record.FinalBatch);
            lock (seen)
            {
                seen.Add((record.FinalBatch, listed, h.Generator.IsStoringFinal(record.FinalBatch)));
            }
        };
        h.AddProver("p0");
        h.AddProver("p1");
        for (var i = 0; i < 4; i++)
        {
            await h.AddSequenceAsync(1 + (i % 3));
        }

        await h.WaitForFinalsAsync(4);
        await GeneratorHarness.WaitUntilAsync(() => { lock (seen) { return seen.Count == 4; } }, 10_000, "every announcement handled");
        lock (seen)
        {
            Assert.All(seen, s => Assert.True(s.Listed && s.Storing, $"sequence {s.Final}: listed {s.Listed}, being stored {s.Storing}"));
            Assert.All(seen, s => Assert.False(h.Generator.IsStoringFinal(s.Final)));
        }
    }

    [Fact]
    public async Task provers_joining_and_leaving_mid_run_lose_no_sequence()
    {
        await using var h = await StartAsync(new GeneratorOptions { ReconnectGrace = TimeSpan.FromMilliseconds(200) });
        static void Slow(MockProverOptions o) => o.BatchLatency = o.AggregateLatency = o.FinalLatency = TimeSpan.FromMilliseconds(40);
        var first = h.AddProver("early-1", Slow);
        h.AddProver("early-2", Slow);
        for (var i = 0; i < 12; i++)
        {
            await h.AddSequenceAsync(4);
        }

        await GeneratorHarness.WaitUntilAsync(() => h.Generator.Metrics.CompletedTotal >= 10, what: "some progress");
        h.AddProver("late-1", Slow);
        h.AddProver("late-2", Slow);
        await h.StopProverAsync(first);
        await h.WaitForFinalsAsync(12, timeoutMs: 60_000);
        Assert.Equal(12, await h.Store.CountFinalProofsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task a_lower_sequence_is_started_before_a_higher_one()
    {
        await using var h = await StartAsync();
        // No prover yet: every batch is ready at once, so the order is the priority's.
        for (var i = 0; i < 3; i++)
        {
            await h.AddSequenceAsync(4);
        }

        var journal = h.Dir.File("journal.jsonl");
        h.AddProver("solo", o => o.JournalPath = journal);
        await h.WaitForFinalsAsync(3);
        var finals = h.Sequences.Keys.Order().ToList();
        var batches = MockProverJournal.ReadAll(journal).Where(e => e.Kind == "batch").Select(e => finals.First(f => e.NewBatch <= f)).ToList();
        Assert.Equal(batches.Order(), batches);
    }

    [Fact]
    public void within_a_sequence_final_outranks_aggregate_which_outranks_batch()
    {
        static ProofTask T(long id, ulong sequence, TaskKind kind, ulong from) => new()
        {
            Id = id,
            Sequence = sequence,
            SequenceInit = sequence - 8,
            Kind = kind,
            FromBatch = from,
            ToBatch = from + 1,
        };
        var tasks = new[]
        {
            T(1, 16, TaskKind.Batch, 8), T(2, 8, TaskKind.Batch, 3), T(3, 8, TaskKind.Aggregate, 4), T(4, 8, TaskKind.Final, 0),
            T(5, 8, TaskKind.Batch, 1), T(6, 16, TaskKind.Final, 8),
        };
        var order = tasks.Order(TaskPriority.Default).Select(t => t.Id).ToList();
        Assert.Equal([4, 3, 5, 2, 6, 1], order);
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

        var open = await h.Store.CountTasksAsync(CancellationToken.None);
        Assert.Equal(1, open[(TaskKind.Batch, TaskState.Done)]);
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
    public async Task an_aggregation_failing_on_two_provers_reproves_its_range_without_the_maker_of_its_inputs()
    {
        await using var h = await StartAsync();
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
        var sequence = await h.AddSequenceAsync(2);
        await GeneratorHarness.WaitUntilAsync(() => h.Generator.Metrics.Completed(TaskKind.Batch) == 2, what: "the liar proved both batches");
        await liar.DisposeAsync();
        var honest = new[] { h.AddProver("honest-1"), h.AddProver("honest-2") };
        await h.WaitForFinalsAsync(1);

        Assert.Equal(HexData.Encode(sequence.ToFinalProof(GeneratorHarness.Miner).Encode()),
            (await h.Store.GetFinalProofAsync(sequence.FinalNewBatch, CancellationToken.None))!.Proof, ignoreCase: true);
        Assert.Equal(2, honest.Sum(p => p.Counters.BatchJobsStarted));
        var avoid = await Target.QueryAsync("SELECT DISTINCT avoid_provers FROM tasks WHERE kind = 0 AND state = 2;");
        Assert.Equal("liar", (string)Assert.Single(avoid)[0]!);
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
        // The aggregator goes away while the prover computes; the prover keeps its job and dials back.
        await first.DisposeAsync(keepDir: true, keepProvers: true);
        await using var second = await StartAsync(dir: dir, port: port);
        await second.WaitForFinalsAsync(1);
        await prover.StopAsync();
        await prover.DisposeAsync();

        Assert.Equal(1, prover.Counters.BatchJobsStarted);
        Assert.Equal(1, prover.Counters.FinalProofRequests(sequence.InitNumBatch, sequence.FinalNewBatch));
        Assert.NotNull(await second.Store.GetFinalProofAsync(sequence.FinalNewBatch, CancellationToken.None));
    }

    [Fact]
    public async Task a_prover_that_restarted_has_lost_its_jobs_which_are_redone()
    {
        using var dir = new TempDir();
        var first = await StartAsync(dir: dir);
        var port = first.Server.Port;
        var prover = first.AddProver("forgetful", o => o.BatchLatency = TimeSpan.FromSeconds(2));
        await first.AddSequenceAsync(1);
        await GeneratorHarness.WaitUntilAsync(() => prover.Counters.BatchJobsStarted == 1, what: "the batch job started");
        await first.DisposeAsync(keepDir: true, keepProvers: true);
        prover.Restart();
        await using var second = await StartAsync(dir: dir, port: port);
        await second.WaitForFinalsAsync(1);
        await prover.StopAsync();
        await prover.DisposeAsync();
        Assert.Equal(2, prover.Counters.BatchJobsStarted);
    }

    private async Task<List<(ulong From, ulong To)>> AggregatedRangesAsync(ulong sequence) =>
        [.. (await Target.QueryAsync($"SELECT from_batch, to_batch FROM tasks WHERE final_batch = {sequence} AND kind = 1 AND state = 2;"))
            .Select(r => (Convert.ToUInt64(r[0], System.Globalization.CultureInfo.InvariantCulture), Convert.ToUInt64(r[1], System.Globalization.CultureInfo.InvariantCulture)))];
}
