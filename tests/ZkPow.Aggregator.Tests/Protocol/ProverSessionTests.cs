using System.Diagnostics;
using Google.Protobuf;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Protocol;
using Kind = ZkPow.Aggregator.Protocol.AggregatorMessage.RequestOneofCase;

namespace ZkPow.Aggregator.Tests.Protocol;

public sealed class ProverSessionTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static AggregatorMessage BatchRequest(int dataBytes = 16) => new()
    {
        GenBatchProofRequest = new GenBatchProofRequest
        {
            Input = new InputProver { PublicInputs = new PublicInputs { OldBatchNum = 0, BatchL2Data = ByteString.CopyFrom(new byte[dataBytes]) } },
        },
    };

    [Fact]
    public async Task the_handshake_learns_the_provers_name_and_instance()
    {
        await using var harness = await SessionHarness.StartAsync();
        await using var prover = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("gpu-7", "run-42"));
        var session = await harness.NextSessionAsync();
        Assert.Equal(new ProverRef("gpu-7", "run-42", "addr:127.0.0.1"), session.Ref);
        Assert.True(session.IsIdle);
        Assert.NotEmpty(prover.Requests(Kind.GetStatusRequest));
    }

    [Fact]
    public async Task a_prover_with_another_fork_id_is_refused()
    {
        await using var harness = await SessionHarness.StartAsync(o => o.ForkId = 6);
        await using var prover = new ScriptedProver(harness.Address, r => ScriptedProver.Status(r, forkId: 7));
        await WaitUntil(() => prover.StreamEnded);
        Assert.False(harness.TryNextSession(out _));
        Assert.Empty(prover.Requests(Kind.GenBatchProofRequest));
    }

    [Fact]
    public async Task a_job_runs_to_its_proof_with_fresh_non_empty_request_ids()
    {
        await using var harness = await SessionHarness.StartAsync();
        await using var prover = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved(pendingPolls: 3));
        var session = await harness.NextSessionAsync();
        string? recorded = null;
        var outcome = await session.RunJobAsync(TaskKind.Batch, BatchRequest(), (id, _) => { recorded = id; return Task.CompletedTask; }, null, None);
        Assert.Equal((JobOutcomeKind.Completed, "proof-of-job-1", "job-1"), (outcome.Kind, outcome.RecursiveProof, recorded));
        Assert.Equal(4, prover.Requests(Kind.GetProofRequest).Count());
        var ids = prover.Received.Select(r => r.Request.Id).ToList();
        Assert.All(ids, id => Assert.False(string.IsNullOrEmpty(id)));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.True(session.IsIdle);
    }

    [Fact]
    public async Task a_job_still_pending_at_its_maximum_time_is_cancelled_on_the_prover()
    {
        await using var harness = await SessionHarness.StartAsync();
        await using var prover = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved(pendingPolls: int.MaxValue));
        var session = await harness.NextSessionAsync();
        var outcome = await session.RunJobAsync(TaskKind.Batch, BatchRequest(), null, null, None, maxJobTime: TimeSpan.FromMilliseconds(500))
            .WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((JobOutcomeKind.Expired, "job-1"), (outcome.Kind, outcome.JobId));
        Assert.Contains("cancelled on the prover", outcome.Error);
        Assert.Equal("job-1", Assert.Single(prover.Requests(Kind.CancelRequest)).CancelRequest.Id);
        Assert.False(session.IsClosed);
    }

    [Fact]
    public async Task after_one_very_long_job_the_next_first_poll_still_comes_within_first_poll_max()
    {
        await using var harness = await SessionHarness.StartAsync(o => o.FirstPollMax = TimeSpan.FromMilliseconds(200));
        await using var prover = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("slowpoke", "s1", pendingPolls: 1));
        var session = await harness.NextSessionAsync();
        // What the session learned from one job that ran for hours.
        harness.Timings.Observe($"{session.Principal}/slowpoke", TaskKind.Batch, TimeSpan.FromHours(3), TimeSpan.FromHours(3));

        // This job is done at its second poll; without the bound that poll would wait three hours.
        var outcome = await session.RunJobAsync(TaskKind.Batch, BatchRequest(), null, null, None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(JobOutcomeKind.Completed, outcome.Kind);
        Assert.Equal(2, prover.Requests(Kind.GetProofRequest).Count());
    }

    [Fact]
    public async Task heartbeats_keep_the_stream_busy_while_a_slow_job_is_polled_rarely()
    {
        await using var harness = await SessionHarness.StartAsync(o =>
        {
            o.HeartbeatInterval = TimeSpan.FromMilliseconds(250);
            o.PollMin = TimeSpan.FromSeconds(4);
            o.PollMax = TimeSpan.FromSeconds(4);
        });
        await using var prover = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved(pendingPolls: 1));
        var session = await harness.NextSessionAsync();
        var outcome = await session.RunJobAsync(TaskKind.Batch, BatchRequest(), null, null, None);
        Assert.Equal(JobOutcomeKind.Completed, outcome.Kind);
        // From the job request on, the job is polled once, then not again for 4 s: heartbeats (GetStatus) must fill
        // that silence. Counted, not timed: a 250 ms heartbeat gives about 16 in 4 s; without heartbeats there are none.
        var afterJob = prover.Received.SkipWhile(r => r.Request.RequestCase != Kind.GenBatchProofRequest).Select(r => r.Request.RequestCase).ToList();
        var firstPoll = afterJob.IndexOf(Kind.GetProofRequest);
        var secondPoll = afterJob.IndexOf(Kind.GetProofRequest, firstPoll + 1);
        Assert.True(firstPoll >= 0 && secondPoll > firstPoll, $"expected two polls, got: {string.Join(" ", afterJob)}");
        var heartbeats = afterJob.Skip(firstPoll + 1).Take(secondPoll - firstPoll - 1).Count(k => k == Kind.GetStatusRequest);
        Assert.True(heartbeats >= 3, $"{heartbeats} heartbeats between two polls 4 s apart with a 250 ms heartbeat");
    }

    [Fact]
    public async Task a_wrong_echoed_id_ends_the_session_and_loses_the_job()
    {
        await using var harness = await SessionHarness.StartAsync();
        var good = ScriptedProver.WellBehaved();
        await using var prover = new ScriptedProver(harness.Address, r =>
        {
            var answer = good(r);
            if (r.RequestCase == Kind.GetProofRequest && answer is not null)
            {
                answer.Id = "not-" + r.Id;
            }

            return answer;
        });
        var session = await harness.NextSessionAsync();
        var outcome = await session.RunJobAsync(TaskKind.Batch, BatchRequest(), null, null, None);
        Assert.Equal(JobOutcomeKind.Lost, outcome.Kind);
        Assert.Contains("echoed id", outcome.Error);
        var (gone, reason) = await harness.NextDisconnectAsync();
        Assert.Same(session, gone);
        Assert.Contains("echoed id", reason);
        await WaitUntil(() => prover.StreamEnded);
    }

    [Fact]
    public async Task the_wrong_response_type_ends_the_session_and_loses_the_job()
    {
        await using var harness = await SessionHarness.StartAsync();
        var good = ScriptedProver.WellBehaved();
        await using var prover = new ScriptedProver(harness.Address, r =>
            r.RequestCase == Kind.GetProofRequest ? ScriptedProver.Status(r) : good(r));
        var session = await harness.NextSessionAsync();
        var outcome = await session.RunJobAsync(TaskKind.Batch, BatchRequest(), null, null, None);
        Assert.Equal(JobOutcomeKind.Lost, outcome.Kind);
        Assert.Contains("answered GetProof with GetStatusResponse", outcome.Error);
        Assert.True(session.IsClosed);
    }

    [Fact]
    public async Task an_empty_proof_fails_the_job_but_keeps_the_session()
    {
        await using var harness = await SessionHarness.StartAsync();
        var good = ScriptedProver.WellBehaved();
        await using var prover = new ScriptedProver(harness.Address, r =>
        {
            var answer = good(r);
            if (answer?.GetProofResponse is { } proof)
            {
                proof.RecursiveProof = "";
            }

            return answer;
        });
        var session = await harness.NextSessionAsync();
        var outcome = await session.RunJobAsync(TaskKind.Batch, BatchRequest(), null, null, None);
        Assert.Equal(JobOutcomeKind.Failed, outcome.Kind);
        Assert.Contains("empty", outcome.Error);
        Assert.False(session.IsClosed);
    }

    [Theory]
    [InlineData(GetProofResponse.Types.Result.Error, JobOutcomeKind.Lost)]
    [InlineData(GetProofResponse.Types.Result.CompletedError, JobOutcomeKind.Failed)]
    [InlineData(GetProofResponse.Types.Result.InternalError, JobOutcomeKind.Failed)]
    [InlineData(GetProofResponse.Types.Result.Cancel, JobOutcomeKind.Lost)]
    [InlineData(GetProofResponse.Types.Result.Unspecified, JobOutcomeKind.Failed)]
    public async Task every_get_proof_result_is_mapped(GetProofResponse.Types.Result result, JobOutcomeKind expected)
    {
        await using var harness = await SessionHarness.StartAsync();
        var good = ScriptedProver.WellBehaved();
        await using var prover = new ScriptedProver(harness.Address, r =>
        {
            var answer = good(r);
            if (answer?.GetProofResponse is { } proof)
            {
                proof.Result = result;
                proof.RecursiveProof = "";
                proof.ResultString = "invalid UUID";
            }

            return answer;
        });
        var session = await harness.NextSessionAsync();
        var outcome = await session.RunJobAsync(TaskKind.Batch, BatchRequest(), null, null, None);
        Assert.Equal(expected, outcome.Kind);
        Assert.False(session.IsClosed);
    }

    [Fact]
    public async Task resuming_an_unknown_job_id_reports_the_job_lost()
    {
        await using var harness = await SessionHarness.StartAsync();
        var good = ScriptedProver.WellBehaved();
        await using var prover = new ScriptedProver(harness.Address, r => r.RequestCase == Kind.GetProofRequest
            ? new ProverMessage { Id = r.Id, GetProofResponse = new GetProofResponse { Id = r.GetProofRequest.Id, Result = GetProofResponse.Types.Result.Error, ResultString = "invalid UUID" } }
            : good(r));
        var session = await harness.NextSessionAsync();
        var outcome = await session.ResumeJobAsync(TaskKind.Batch, "forgotten-job", null, None);
        Assert.Equal(JobOutcomeKind.Lost, outcome.Kind);
        Assert.Contains("invalid UUID", outcome.Error);
    }

    [Fact]
    public async Task a_stream_dropped_mid_job_loses_the_job()
    {
        await using var harness = await SessionHarness.StartAsync();
        var good = ScriptedProver.WellBehaved(pendingPolls: 1_000_000);
        ScriptedProver? prover = null;
        prover = new ScriptedProver(harness.Address, r =>
        {
            if (r.RequestCase == Kind.GetProofRequest && prover!.Requests(Kind.GetProofRequest).Count() >= 3)
            {
                prover.Drop();
                return null;
            }

            return good(r);
        });
        await using (prover)
        {
            var session = await harness.NextSessionAsync();
            var outcome = await session.RunJobAsync(TaskKind.Batch, BatchRequest(), null, null, None).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal((JobOutcomeKind.Lost, "job-1"), (outcome.Kind, outcome.JobId));
            Assert.True(session.IsClosed);
        }
    }

    [Fact]
    public async Task a_prover_that_stops_answering_is_dropped_after_the_response_timeout()
    {
        await using var harness = await SessionHarness.StartAsync(o => o.ResponseTimeout = TimeSpan.FromMilliseconds(300));
        var good = ScriptedProver.WellBehaved();
        await using var prover = new ScriptedProver(harness.Address, r => r.RequestCase == Kind.GetProofRequest ? null : good(r));
        var session = await harness.NextSessionAsync();
        var watch = Stopwatch.StartNew();
        var outcome = await session.RunJobAsync(TaskKind.Batch, BatchRequest(), null, null, None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(JobOutcomeKind.Lost, outcome.Kind);
        Assert.Contains("no answer", outcome.Error);
        Assert.InRange(watch.ElapsedMilliseconds, 250, 5000);
        await WaitUntil(() => prover.StreamEnded);
    }

    [Fact]
    public async Task a_request_over_the_send_limit_is_not_sent()
    {
        await using var harness = await SessionHarness.StartAsync(o => o.MaxSendBytes = 4096);
        await using var prover = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved());
        var session = await harness.NextSessionAsync();
        var outcome = await session.RunJobAsync(TaskKind.Batch, BatchRequest(dataBytes: 8192), null, null, None);
        Assert.Equal(JobOutcomeKind.TooLarge, outcome.Kind);
        Assert.Contains("send limit", outcome.Error);
        Assert.Empty(prover.Requests(Kind.GenBatchProofRequest));
        var small = await session.RunJobAsync(TaskKind.Batch, BatchRequest(dataBytes: 100), null, null, None);
        Assert.Equal(JobOutcomeKind.Completed, small.Kind);
    }

    [Fact]
    public async Task a_prover_is_idle_only_when_its_status_says_so_too()
    {
        var idleNow = 0;
        await using var harness = await SessionHarness.StartAsync(o => o.BusyStatusInterval = TimeSpan.FromMilliseconds(100));
        await using var prover = new ScriptedProver(harness.Address, r => ScriptedProver.Status(r,
            status: Volatile.Read(ref idleNow) == 1 ? GetStatusResponse.Types.Status.Idle : GetStatusResponse.Types.Status.Computing));
        var session = await harness.NextSessionAsync();
        Assert.False(session.IsIdle);
        var idle = session.WaitUntilIdleAsync(None);
        await Task.Delay(300);
        Assert.False(idle.IsCompleted);
        Volatile.Write(ref idleNow, 1);
        await idle.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(session.IsIdle);
    }

    [Fact]
    public async Task a_misbehaving_prover_does_not_disturb_another_session()
    {
        await using var harness = await SessionHarness.StartAsync();
        await using var bad = new ScriptedProver(harness.Address, r => new ProverMessage { Id = "garbage", GetStatusResponse = new GetStatusResponse() });
        await WaitUntil(() => bad.StreamEnded);
        await using var good = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("good", "g1"));
        var session = await harness.NextSessionAsync();
        Assert.Equal("good", session.Name);
        var outcome = await session.RunJobAsync(TaskKind.Batch, BatchRequest(), null, null, None);
        Assert.Equal(JobOutcomeKind.Completed, outcome.Kind);
    }

    private static async Task WaitUntil(Func<bool> condition, int timeoutMs = 10_000)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.ElapsedMilliseconds > timeoutMs)
            {
                throw new TimeoutException("condition not met in time");
            }

            await Task.Delay(20);
        }
    }
}
