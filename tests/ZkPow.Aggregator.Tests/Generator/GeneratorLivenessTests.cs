using Microsoft.Data.Sqlite;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Protocol;
using ZkPow.Aggregator.Tests.Protocol;
using Kind = ZkPow.Aggregator.Protocol.AggregatorMessage.RequestOneofCase;

namespace ZkPow.Aggregator.Tests.Generator;

public sealed class GeneratorLivenessTests
{
    [Fact]
    public async Task after_a_restart_a_running_job_waits_for_its_prover_from_the_moment_the_prover_port_opens()
    {
        using var dir = new TempDir();
        // A grace well above the prover's reconnect delay (a loaded machine must not make the prover miss it), and a
        // start-up longer than the grace.
        var options = new GeneratorOptions { ReconnectGrace = TimeSpan.FromSeconds(6), Lease = TimeSpan.FromSeconds(1) };
        var first = await GeneratorHarness.StartAsync(options, dir: dir);
        var port = first.Server.Port;
        var prover = first.AddProver("keeper", o =>
        {
            o.InstanceId = "keeper-1";
            o.BatchLatency = TimeSpan.FromSeconds(3);
            o.ReconnectDelay = TimeSpan.FromMilliseconds(200);
        });
        var sequence = await first.AddSequenceAsync(1);
        await GeneratorHarness.WaitUntilAsync(() => prover.Counters.BatchJobsStarted == 1, what: "the batch job started");
        await GeneratorHarness.WaitUntilAsync(() => BatchJobId(first) is not null, what: "the job id recorded");
        await first.DisposeAsync(keepDir: true, keepProvers: true);

        // The restarted aggregator spends longer than the grace (and the lease) on start-up work before its prover port
        // opens: the prover could not have come back earlier, so its job must still be waiting for it.
        await using var second = await GeneratorHarness.StartAsync(options, dir: dir, port: port, listenAfter: TimeSpan.FromSeconds(9));
        await second.WaitForFinalsAsync(1);
        await prover.StopAsync();
        await prover.DisposeAsync();

        Assert.Equal(1, prover.Counters.BatchJobsStarted);
        Assert.Equal(1, prover.Counters.FinalProofRequests(sequence.InitNumBatch, sequence.FinalNewBatch));
    }

    [Fact]
    public async Task a_prover_that_reconnects_before_its_old_stream_is_seen_dead_keeps_the_result_of_its_job()
    {
        await using var h = await GeneratorHarness.StartAsync(new GeneratorOptions { ReconnectGrace = TimeSpan.FromSeconds(2) });
        var jobTaken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The first stream takes the batch job and keeps answering PENDING.
        await using var oldStream = new ScriptedProver(h.Server.Address, request =>
        {
            switch (request.RequestCase)
            {
                case Kind.GenBatchProofRequest:
                    return new ProverMessage { Id = request.Id, GenBatchProofResponse = new GenBatchProofResponse { Id = "job-1", Result = Result.Ok } };
                case Kind.GetProofRequest:
                    // Asked for job-1's proof: the aggregator has recorded job-1 as this stream's (set on the request
                    // alone, the new stream below could report job-1 before the aggregator knew of it).
                    jobTaken.TrySetResult();
                    return new ProverMessage
                    {
                        Id = request.Id,
                        GetProofResponse = new GetProofResponse { Id = request.GetProofRequest.Id, Result = GetProofResponse.Types.Result.Pending },
                    };
                default:
                    return ScriptedProver.Status(request, "flaky", "flaky-1");
            }
        });
        await h.AddSequenceAsync(1);
        await jobTaken.Task.WaitAsync(TimeSpan.FromSeconds(20));

        // The same prover instance dials again (its old stream is not seen dead yet): it is still computing job-1,
        // then finishes it.
        var polled = false;
        await using var newStream = new ScriptedProver(h.Server.Address, request =>
        {
            switch (request.RequestCase)
            {
                case Kind.GetProofRequest when request.GetProofRequest.Id == "job-1":
                    polled = true;
                    return new ProverMessage
                    {
                        Id = request.Id,
                        GetProofResponse = new GetProofResponse
                        {
                            Id = "job-1",
                            Result = GetProofResponse.Types.Result.CompletedOk,
                            RecursiveProof = "proof-of-job-1",
                        },
                    };
                case Kind.GetStatusRequest:
                    var status = ScriptedProver.Status(request, "flaky", "flaky-1",
                        status: polled ? GetStatusResponse.Types.Status.Idle : GetStatusResponse.Types.Status.Computing);
                    status.GetStatusResponse.CurrentComputingRequestId = polled ? "" : "job-1";
                    return status;
                default:
                    return null;
            }
        });

        await GeneratorHarness.WaitUntilAsync(() => BatchProof(h) == "proof-of-job-1", what: "job-1's proof stored");
        Assert.Single(oldStream.Requests(Kind.GenBatchProofRequest));
        Assert.Empty(newStream.Requests(Kind.GenBatchProofRequest));
    }

    [Fact]
    public async Task a_store_error_while_giving_back_a_held_task_does_not_end_the_sweep_and_the_task_comes_back()
    {
        var failing = 1;
        FaultyGeneratorStore? faulty = null;
        await using var h = await GeneratorHarness.StartAsync(
            new GeneratorOptions { ReconnectGrace = TimeSpan.FromMilliseconds(300), LeaseSweepInterval = TimeSpan.FromMilliseconds(200) },
            wrapStore: s => faulty = new FaultyGeneratorStore(s) { Fail = call => call == nameof(IGeneratorStore.ReleaseAsync) && Volatile.Read(ref failing) == 1 });
        var accepted = 0;
        ScriptedProver? vanishing = null;
        vanishing = new ScriptedProver(h.Server.Address, r =>
        {
            switch (r.RequestCase)
            {
                case Kind.GenBatchProofRequest:
                    Interlocked.Increment(ref accepted);
                    return new ProverMessage { Id = r.Id, GenBatchProofResponse = new GenBatchProofResponse { Id = "held-job", Result = Result.Ok } };
                case Kind.GetProofRequest:
                    vanishing!.Drop();
                    return null;
                default:
                    return ScriptedProver.Status(r, "vanishing", "v-1");
            }
        });
        await using (vanishing)
        {
            await h.AddSequenceAsync(1);
            await GeneratorHarness.WaitUntilAsync(() => accepted == 1, what: "the vanishing prover took the job");

            // The held job's grace ends while the store fails: giving it back fails, again and again.
            await GeneratorHarness.WaitUntilAsync(() => faulty!.Failures >= 3, what: "the sweep retried the failing store");
            Assert.NotNull(h.Generator.LeaseSweepError);
            Volatile.Write(ref failing, 0);
            h.AddProver("steady");
            await h.WaitForFinalsAsync(1);
        }

        await GeneratorHarness.WaitUntilAsync(() => h.Generator.LeaseSweepError is null, what: "the sweep error cleared");
        Assert.Equal(1, accepted);
    }

    [Fact]
    public async Task an_outcome_that_cannot_be_stored_strands_nothing_and_its_proof_is_fetched_again()
    {
        // The proof of the batch cannot be stored once, and the lease sweep itself fails twice at first.
        var completes = 1;
        var sweeps = 2;
        FaultyGeneratorStore? faulty = null;
        await using var h = await GeneratorHarness.StartAsync(
            new GeneratorOptions { Lease = TimeSpan.FromSeconds(1), LeaseSweepInterval = TimeSpan.FromMilliseconds(200) },
            wrapStore: s => faulty = new FaultyGeneratorStore(s)
            {
                Fail = call => call switch
                {
                    nameof(IGeneratorStore.CompleteAsync) => Interlocked.Decrement(ref completes) >= 0,
                    nameof(IGeneratorStore.ListExpiredLeasesAsync) => Interlocked.Decrement(ref sweeps) >= 0,
                    _ => false,
                },
            });
        var prover = h.AddProver("steady");
        var sequence = await h.AddSequenceAsync(1);

        await h.WaitForFinalsAsync(1);
        Assert.Equal(3, faulty!.Failures);
        // The prover still had the proof of its job: it was polled again, not asked to prove the batch twice.
        Assert.Equal(1, prover.Counters.BatchJobsStarted);
        Assert.Equal(1, prover.Counters.FinalProofRequests(sequence.InitNumBatch, sequence.FinalNewBatch));
        await GeneratorHarness.WaitUntilAsync(() => h.Generator.LeaseSweepError is null, what: "the sweep error cleared");
    }

    [Fact]
    public async Task a_prover_answering_pending_forever_gets_cancel_and_its_task_completes_on_another_prover()
    {
        await using var h = await GeneratorHarness.StartAsync(new GeneratorOptions { MaxJobTime = TimeSpan.FromSeconds(1) });
        var jobs = 0;
        var cancels = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var stuck = new ScriptedProver(h.Server.Address, r =>
        {
            switch (r.RequestCase)
            {
                case Kind.GenBatchProofRequest:
                    return new ProverMessage { Id = r.Id, GenBatchProofResponse = new GenBatchProofResponse { Id = $"stuck-{Interlocked.Increment(ref jobs)}", Result = Result.Ok } };
                case Kind.GenFinalProofRequest:
                    return new ProverMessage { Id = r.Id, GenFinalProofResponse = new GenFinalProofResponse { Id = $"stuck-{Interlocked.Increment(ref jobs)}", Result = Result.Ok } };
                case Kind.GetProofRequest:
                    return new ProverMessage
                    {
                        Id = r.Id,
                        GetProofResponse = new GetProofResponse { Id = r.GetProofRequest.Id, Result = GetProofResponse.Types.Result.Pending },
                    };
                case Kind.CancelRequest:
                    cancels.Enqueue(r.CancelRequest.Id);
                    return new ProverMessage { Id = r.Id, CancelResponse = new CancelResponse { Result = Result.Ok } };
                default:
                    return ScriptedProver.Status(r, "stuck", "stuck-1");
            }
        });
        await h.AddSequenceAsync(1);
        await GeneratorHarness.WaitUntilAsync(() => jobs == 1, what: "the stuck prover took the batch");
        var steady = h.AddProver("steady");

        await h.WaitForFinalsAsync(1);
        Assert.Contains("stuck-1", cancels);
        Assert.Equal(1, steady.Counters.BatchJobsStarted);
        Assert.Equal("steady", Assert.Single(h.Finals).ProverName);
    }

    [Fact]
    public async Task a_final_proof_is_requested_again_only_after_its_job_was_cancelled_for_exceeding_the_maximum_job_time()
    {
        await using var h = await GeneratorHarness.StartAsync(new GeneratorOptions { MaxJobTime = TimeSpan.FromSeconds(2) });
        // The only prover at first proves the batch, then never finishes the final proof.
        var slow = h.AddProver("slow", o => o.FinalLatency = TimeSpan.FromHours(1));
        var sequence = await h.AddSequenceAsync(1);
        await GeneratorHarness.WaitUntilAsync(() => slow.Counters.FinalJobsStarted == 1, what: "the final job started");
        var steady = h.AddProver("steady");

        await h.WaitForFinalsAsync(1);
        Assert.Equal(1, slow.Counters.FinalProofRequests(sequence.InitNumBatch, sequence.FinalNewBatch));
        Assert.Equal(1, steady.Counters.FinalProofRequests(sequence.InitNumBatch, sequence.FinalNewBatch));
        Assert.Equal("steady", Assert.Single(h.Finals).ProverName);
    }

    [Fact]
    public async Task a_claim_that_cannot_be_stored_strands_nothing()
    {
        // The first claim of each kind fails in the store: the batch's request went out with its claim, the final's waits for it.
        var batchClaims = 1;
        var finalClaims = 1;
        FaultyGeneratorStore? faulty = null;
        await using var h = await GeneratorHarness.StartAsync(new GeneratorOptions { LeaseSweepInterval = TimeSpan.FromMilliseconds(200) },
            wrapStore: s => faulty = new FaultyGeneratorStore(s));
        var sequence = await h.AddSequenceAsync(2);

        // The third proof stored is the aggregation's (the batch whose claim failed is not stored, but done again): the
        // claim after it is the final's, made as soon as the aggregation's proof is applied (before it commits).
        var stored = 0;
        faulty!.Before = call =>
        {
            if (call == nameof(IGeneratorStore.CompleteAsync))
            {
                Interlocked.Increment(ref stored);
            }

            return Task.CompletedTask;
        };
        faulty.Fail = call => call == nameof(IGeneratorStore.TryClaimAsync) &&
                              (Interlocked.Decrement(ref batchClaims) >= 0 || (Volatile.Read(ref stored) == 3 && Interlocked.Decrement(ref finalClaims) >= 0));
        var prover = h.AddProver("steady");

        await h.WaitForFinalsAsync(1);
        Assert.Equal(2, faulty.Failures);
        Assert.Equal(1, prover.Counters.FinalProofRequests(sequence.InitNumBatch, sequence.FinalNewBatch));
    }

    /// <summary>The job id recorded for the running batch task of <paramref name="h"/>'s SQLite store, if any.</summary>
    internal static string? BatchJobId(GeneratorHarness h)
    {
        using var db = new SqliteConnection($"Data Source={h.Dir.File("gen.db")};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = "SELECT job_id FROM tasks WHERE kind = 0 AND state = 1;";
        return command.ExecuteScalar() as string;
    }

    private static string? BatchProof(GeneratorHarness h)
    {
        using var db = new SqliteConnection($"Data Source={h.Dir.File("gen.db")};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = "SELECT proof FROM tasks WHERE kind = 0 AND state = 2;";
        return command.ExecuteScalar() as string;
    }
}
