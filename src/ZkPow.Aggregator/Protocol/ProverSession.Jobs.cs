using System.Diagnostics;
using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Protocol;

public sealed partial class ProverSession
{
    /// <summary>
    /// Runs one job: sends the Gen*Request (unless it is larger than the prover accepts), reports the prover's job id
    /// through <paramref name="onJobId"/>, then polls GetProof until the job ends. <paramref name="onPending"/> is
    /// called on every PENDING answer (lease renewal). A job still without a proof after <paramref name="maxJobTime"/>
    /// (counted from the request) is cancelled on the prover and ends as <see cref="JobOutcomeKind.Expired"/>.
    /// </summary>
    public async Task<JobOutcome> RunJobAsync(TaskKind kind, AggregatorMessage request,
        Func<string, CancellationToken, Task>? onJobId, Func<CancellationToken, Task>? onPending, CancellationToken cancellationToken,
        TimeSpan? maxJobTime = null)
    {
        var expected = kind switch
        {
            TaskKind.Batch => ProverMessage.ResponseOneofCase.GenBatchProofResponse,
            TaskKind.Aggregate => ProverMessage.ResponseOneofCase.GenAggregatedProofResponse,
            TaskKind.Final => ProverMessage.ResponseOneofCase.GenFinalProofResponse,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown task kind"),
        };

        // The id is set when sending; count room for it.
        var size = request.CalculateSize() + 64;
        if (size > _options.MaxSendBytes)
        {
            return new JobOutcome(JobOutcomeKind.TooLarge, null, null, null,
                $"request of {size} bytes exceeds the prover send limit of {_options.MaxSendBytes} bytes (Provers:MaxSendBytes)");
        }

        BeginJob();
        try
        {
            ProverMessage response;
            long writtenAt;
            try
            {
                (response, writtenAt) = await RequestAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (ProverSessionClosedException ex)
            {
                return JobOutcome.Lost(null, ex.Message);
            }

            if (response.ResponseCase != expected)
            {
                var reason = $"protocol violation: answered {request.RequestCase} with {response.ResponseCase}";
                Close(reason);
                return JobOutcome.Lost(null, reason) with { RequestWrittenAt = writtenAt, RequestId = request.Id };
            }

            var (jobId, result) = response.ResponseCase switch
            {
                ProverMessage.ResponseOneofCase.GenBatchProofResponse => (response.GenBatchProofResponse.Id, response.GenBatchProofResponse.Result),
                ProverMessage.ResponseOneofCase.GenAggregatedProofResponse => (response.GenAggregatedProofResponse.Id, response.GenAggregatedProofResponse.Result),
                _ => (response.GenFinalProofResponse.Id, response.GenFinalProofResponse.Result),
            };

            var refused = result switch
            {
                Result.Ok => null,
                Result.Error => "the prover refused the request (RESULT_ERROR)",
                Result.InternalError => "the prover failed to take the request (RESULT_INTERNAL_ERROR)",
                Result.Unspecified => "the prover answered the request with RESULT_UNSPECIFIED",
                _ => $"the prover answered the request with unknown result {(int)result}",
            };
            if (refused is not null)
            {
                return JobOutcome.Failed(null, refused) with { RequestWrittenAt = writtenAt, RequestId = request.Id };
            }

            if (string.IsNullOrEmpty(jobId))
            {
                return JobOutcome.Failed(null, "the prover accepted the request but returned an empty job id") with { RequestWrittenAt = writtenAt, RequestId = request.Id };
            }

            CurrentJobId = jobId;
            if (onJobId is not null)
            {
                await onJobId(jobId, cancellationToken).ConfigureAwait(false);
            }

            var outcome = await PollCoreAsync(kind, jobId, onPending, maxJobTime, cancellationToken).ConfigureAwait(false);
            return outcome with { RequestWrittenAt = writtenAt, RequestId = request.Id };
        }
        finally
        {
            await EndJobAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Resumes polling a job that this prover instance was already computing (adoption after a restart);
    /// <paramref name="maxJobTime"/> counts from now.</summary>
    public async Task<JobOutcome> ResumeJobAsync(TaskKind kind, string jobId, Func<CancellationToken, Task>? onPending, CancellationToken cancellationToken,
        TimeSpan? maxJobTime = null)
    {
        if (string.IsNullOrEmpty(jobId))
        {
            return JobOutcome.Lost(null, "no job id to resume");
        }

        BeginJob();
        try
        {
            CurrentJobId = jobId;
            return await PollCoreAsync(kind, jobId, onPending, maxJobTime, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await EndJobAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Asks the prover to cancel a job (best effort).</summary>
    public async Task<bool> CancelJobAsync(string jobId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(jobId))
        {
            return false;
        }

        try
        {
            var (response, _) = await RequestAsync(new AggregatorMessage { CancelRequest = new CancelRequest { Id = jobId } }, cancellationToken)
                .ConfigureAwait(false);
            if (response.ResponseCase != ProverMessage.ResponseOneofCase.CancelResponse)
            {
                throw Violation($"answered Cancel with {response.ResponseCase}");
            }

            return response.CancelResponse.Result == Result.Ok;
        }
        catch (ProverSessionClosedException)
        {
            return false;
        }
    }

    /// <summary>Durations are learned per principal and name, so that no other principal can skew a prover's polling.</summary>
    private string TimingKey
    {
        get
        {
            // Built once per name (the scheduler asks for it on every dispatch); the name is set once, at the first status.
            var name = Name;
            var key = Volatile.Read(ref _timingKey);
            if (key is null || !ReferenceEquals(key.Item1, name))
            {
                key = Tuple.Create(name, $"{Principal}/{name}");
                Volatile.Write(ref _timingKey, key);
            }

            return key.Item2;
        }
    }

    /// <summary>The learned duration of a job of this kind: the larger of this prover's own and the fleet's (a prover
    /// that never finishes a job cannot lengthen it), if anything is known.</summary>
    public TimeSpan? LearnedJobTime(TaskKind kind) => _timings.Longest(TimingKey, kind);

    /// <summary>The expected duration of a job of this kind on this prover (the fleet's while it has finished none), if
    /// anything is known: what tells a fast prover from a slow one.</summary>
    public TimeSpan? ExpectedJobTime(TaskKind kind) => _timings.Expected(TimingKey, kind);

    /// <summary>The job id of the job of ours that this prover is running, if any.</summary>
    public string? CurrentJobId { get; private set; }

    private void BeginJob()
    {
        lock (_gate)
        {
            _jobsRunning++;
        }
    }

    private async Task EndJobAsync()
    {
        bool refresh;
        var ended = CurrentJobId;
        CurrentJobId = null;
        lock (_gate)
        {
            _jobsRunning--;
            if (_jobsRunning == 0 && _lastStatus != GetStatusResponse.Types.Status.Idle && ended is not null && _lastStatusResponse is { } last &&
                last.CurrentComputingRequestId == ended && last.PendingRequestQueueIds.Count == 0)
            {
                // The prover was busy with this very job (and nothing queued after it), which is over: it is idle, no
                // need for a status round trip before the next job.
                _lastStatus = GetStatusResponse.Types.Status.Idle;
            }

            refresh = _jobsRunning == 0 && _lastStatus != GetStatusResponse.Types.Status.Idle && !IsClosed;
            if (_jobsRunning == 0 && !refresh)
            {
                _idleChanged.TrySetResult();
            }
        }

        if (refresh)
        {
            try
            {
                await RefreshStatusAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (ProverSessionClosedException)
            {
                // The session is over; whoever waits for idleness hears it from WaitUntilIdleAsync.
            }
        }
    }

    private async Task<JobOutcome> PollCoreAsync(TaskKind kind, string jobId, Func<CancellationToken, Task>? onPending, TimeSpan? maxJobTime,
        CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var limit = maxJobTime ?? TimeSpan.MaxValue;
        var expected = _timings.Expected(TimingKey, kind);
        var firstPoll = _timings.FirstPoll(TimingKey, kind);
        // Polls after the first are spaced by a twentieth of the expected duration, or by a quarter of the spread before
        // it when that is larger (fewer polls for jobs whose time varies a lot), within PollMin..PollMax.
        var cap = expected is { } ex
            ? TimeSpan.FromTicks(Math.Clamp(Math.Max(ex.Ticks / 20, (ex - (firstPoll ?? ex)).Ticks / 8), _options.PollMin.Ticks, _options.PollMax.Ticks))
            : _options.PollMax;
        var backoff = _options.PollMin;
        TimeSpan? lastPending = null;
        var longPollSeconds = (ulong)Math.Ceiling(_options.GetProofTimeout.TotalSeconds);
        if (TimeSpan.FromSeconds(longPollSeconds) >= _options.ResponseTimeout)
        {
            longPollSeconds = 0; // The answer could come after the response timeout: never ask to hold it.
        }

        var longPoll = longPollSeconds > 0 && Volatile.Read(ref _longPoll) >= 0;
        var request = new GetProofRequest { Id = jobId, Timeout = longPoll ? longPollSeconds : 0 };
        using var waitCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
        while (true)
        {
            ProverMessage response;
            var askedAt = _time.GetTimestamp();
            try
            {
                (response, _) = await RequestAsync(new AggregatorMessage { GetProofRequest = request.Clone() }, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (ProverSessionClosedException closed)
            {
                return JobOutcome.Lost(jobId, closed.Message);
            }

            if (response.ResponseCase != ProverMessage.ResponseOneofCase.GetProofResponse)
            {
                var reason = $"protocol violation: answered GetProof with {response.ResponseCase}";
                Close(reason);
                return JobOutcome.Lost(jobId, reason);
            }

            var answer = response.GetProofResponse;
            var detail = string.IsNullOrEmpty(answer.ResultString) ? "" : $": {answer.ResultString}";
            switch (answer.Result)
            {
                case GetProofResponse.Types.Result.CompletedOk:
                    _timings.Observe(TimingKey, kind, lastPending, _time.GetElapsedTime(started));
                    return Completed(kind, jobId, answer) with { AnsweredAt = Stopwatch.GetTimestamp() };
                case GetProofResponse.Types.Result.Pending:
                    lastPending = _time.GetElapsedTime(started);
                    break;
                case GetProofResponse.Types.Result.Error:
                    return JobOutcome.Lost(jobId, $"the prover does not know job {jobId} (RESULT_ERROR{detail})");
                case GetProofResponse.Types.Result.CompletedError:
                    return JobOutcome.Failed(jobId, $"the job was computed and failed (RESULT_COMPLETED_ERROR{detail})");
                case GetProofResponse.Types.Result.InternalError:
                    return JobOutcome.Failed(jobId, $"the prover failed internally (RESULT_INTERNAL_ERROR{detail})");
                case GetProofResponse.Types.Result.Cancel:
                    return JobOutcome.Lost(jobId, $"the job was cancelled on the prover (RESULT_CANCEL{detail})");
                case GetProofResponse.Types.Result.Unspecified:
                    return JobOutcome.Failed(jobId, $"the prover answered GetProof with RESULT_UNSPECIFIED{detail}");
                default:
                    return JobOutcome.Failed(jobId, $"the prover answered GetProof with unknown result {(int)answer.Result}{detail}");
            }

            if (_time.GetElapsedTime(started) >= limit)
            {
                return await ExpireAsync(jobId, limit, cancellationToken).ConfigureAwait(false);
            }

            if (onPending is not null)
            {
                await onPending(cancellationToken).ConfigureAwait(false);
            }

            if (longPoll)
            {
                if (_time.GetElapsedTime(askedAt) >= TimeSpan.FromSeconds(longPollSeconds / 2.0))
                {
                    // The prover held the answer until the timeout: ask again at once.
                    Volatile.Write(ref _longPoll, 1);
                    continue;
                }

                // A PENDING answer long before the timeout: this prover ignores it (as real provers do); poll instead.
                Volatile.Write(ref _longPoll, -1);
                longPoll = false;
                request.Timeout = 0;
                LogNoLongPoll(Name, InstanceId);
            }

            var elapsed = _time.GetElapsedTime(started);
            TimeSpan wait;
            if (firstPoll is { } first && elapsed < first)
            {
                wait = TimeSpan.FromTicks(Math.Min((first - elapsed).Ticks, _options.FirstPollMax.Ticks));
            }
            else
            {
                wait = backoff;
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, cap.Ticks));
            }

            // The last poll comes when the job reaches its maximum time.
            var left = limit - _time.GetElapsedTime(started);
            if (wait > left)
            {
                wait = left > TimeSpan.Zero ? left : TimeSpan.Zero;
            }

            try
            {
                await Task.Delay(wait, _time, waitCancel.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (IsClosed)
            {
                return JobOutcome.Lost(jobId, CloseReason ?? "session ended");
            }
        }
    }

    /// <summary>The job ran past its maximum time: it is cancelled on the prover (best effort; a prover that does not
    /// answer the cancel in time loses its session as for any request) so that the prover is free for other work.</summary>
    private async Task<JobOutcome> ExpireAsync(string jobId, TimeSpan limit, CancellationToken cancellationToken)
    {
        var error = $"no proof after {Durations.Format(limit)} (the maximum job time, Generator:MaxJobTime)";
        bool cancelled;
        try
        {
            cancelled = await CancelJobAsync(jobId, cancellationToken).ConfigureAwait(false);
        }
        catch (ProverSessionClosedException)
        {
            cancelled = false;
        }

        LogJobExpired(Name, InstanceId, jobId, Durations.Format(limit), cancelled);
        return new JobOutcome(JobOutcomeKind.Expired, jobId, null, null,
            cancelled ? $"{error}; cancelled on the prover" : $"{error}; the prover did not confirm the cancel");
    }

    private static JobOutcome Completed(TaskKind kind, string jobId, GetProofResponse answer)
    {
        if (kind == TaskKind.Final)
        {
            if (answer.ProofCase != GetProofResponse.ProofOneofCase.FinalProof)
            {
                return JobOutcome.Failed(jobId, $"a final job completed with {answer.ProofCase} instead of a final proof");
            }

            var final = answer.FinalProof;
            if (string.IsNullOrWhiteSpace(final.Proof) || final.Proof is "0x" or "0X")
            {
                return JobOutcome.Failed(jobId, "the prover completed the final job with an empty proof");
            }

            if (final.Public is null)
            {
                return JobOutcome.Failed(jobId, "the prover completed the final job without public inputs");
            }

            return new JobOutcome(JobOutcomeKind.Completed, jobId, null, final, null);
        }

        if (answer.ProofCase != GetProofResponse.ProofOneofCase.RecursiveProof)
        {
            return JobOutcome.Failed(jobId, $"a {kind} job completed with {answer.ProofCase} instead of a recursive proof");
        }

        if (string.IsNullOrWhiteSpace(answer.RecursiveProof))
        {
            return JobOutcome.Failed(jobId, "the prover completed the job with an empty recursive proof");
        }

        return new JobOutcome(JobOutcomeKind.Completed, jobId, answer.RecursiveProof, null, null);
    }
}
