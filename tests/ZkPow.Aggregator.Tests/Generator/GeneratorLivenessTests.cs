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
                    jobTaken.TrySetResult();
                    return new ProverMessage { Id = request.Id, GenBatchProofResponse = new GenBatchProofResponse { Id = "job-1", Result = Result.Ok } };
                case Kind.GetProofRequest:
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

    private static string? BatchJobId(GeneratorHarness h)
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
