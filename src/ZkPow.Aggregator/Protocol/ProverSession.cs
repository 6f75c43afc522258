using System.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Protocol;

/// <summary>
/// One connected prover: one bidirectional stream on which the aggregator sends requests and the prover answers,
/// one request at a time (lockstep), each with a fresh id that the answer must echo. The session keeps the stream
/// alive with GetStatus heartbeats, runs jobs (request, then adaptive GetProof polling) and ends itself, with a log
/// line, on anything the prover does wrong; nothing a prover sends escapes as an exception.
/// </summary>
public sealed partial class ProverSession
{
    private static long s_sessionCounter;

    private readonly IAsyncStreamReader<ProverMessage> _responses;
    private readonly IServerStreamWriter<AggregatorMessage> _requests;
    private readonly ProverSessionOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _lane = new(1, 1);
    private readonly CancellationTokenSource _closed = new();
    private readonly Lock _gate = new();
    private readonly string _idPrefix;
    private readonly JobTimings _timings;
    private Tuple<string, string>? _timingKey;
    private TaskCompletionSource<ProverMessage>? _pending;
    private string? _pendingId;
    private long _requestCounter;
    private long _lastSentTimestamp;
    private long _lastStatusTimestamp;
    private GetStatusResponse.Types.Status _lastStatus;
    private GetStatusResponse? _lastStatusResponse;
    private int _jobsRunning;

    /// <summary>Whether the prover answers GetProof when the job ends (1), answers at once (-1) or is not known yet (0).</summary>
    private int _longPoll;
    private TaskCompletionSource _idleChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Longest prover name or instance id accepted (longer ones are refused at the handshake).</summary>
    public const int MaxIdentityLength = 128;

    public ProverSession(IAsyncStreamReader<ProverMessage> responses, IServerStreamWriter<AggregatorMessage> requests,
        string peer, ProverSessionOptions options, ILogger logger, TimeProvider time, JobTimings? timings = null, string? principal = null)
    {
        Principal = principal ?? "";
        _timings = timings ?? new JobTimings();
        _responses = responses;
        _requests = requests;
        _options = options;
        _logger = logger;
        _time = time;
        Peer = peer;
        var number = Interlocked.Increment(ref s_sessionCounter);
        _idPrefix = $"{number:x}-{Guid.NewGuid().ToString("N")[..8]}-";
        Name = $"unnamed@{peer}";
        InstanceId = "";
    }

    public string Peer { get; }

    /// <summary>Who connected the session (<c>cert:…</c>, <c>token:…</c> or <c>addr:…</c>); only a session of the
    /// same principal can replace it or adopt its jobs.</summary>
    public string Principal { get; }

    /// <summary>The prover's stable name (prover_name).</summary>
    public string Name { get; private set; }

    /// <summary>The prover's per-start id (prover_id).</summary>
    public string InstanceId { get; private set; }

    public ProverRef Ref => new(Name, InstanceId, Principal);

    /// <summary>Why the session ended, once it has.</summary>
    public string? CloseReason { get; private set; }

    public bool IsClosed => _closed.IsCancellationRequested;

    /// <summary>The longest a request can take from its call to its answer: the request ahead of it holds the session's
    /// one lane (the protocol is lockstep) for at most <see cref="ProverSessionOptions.ResponseTimeout"/>, long polls
    /// included, or the session closes; its own answer then takes at most that again.</summary>
    public TimeSpan LongestRequest => _options.ResponseTimeout * 2;

    /// <summary>Cancelled when the session ends.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>The last status the prover reported.</summary>
    public GetStatusResponse? LastStatus
    {
        get
        {
            lock (_gate)
            {
                return _lastStatusResponse;
            }
        }
    }

    /// <summary>Idle by our bookkeeping (no job of ours running) and by the prover's last status.</summary>
    public bool IsIdle
    {
        get
        {
            lock (_gate)
            {
                return _jobsRunning == 0 && _lastStatus == GetStatusResponse.Types.Status.Idle && !IsClosed;
            }
        }
    }

    /// <summary>Requests sent on this stream so far (each answered or the session ended).</summary>
    public long RequestCount => Interlocked.Read(ref _requestCounter);

    /// <summary>Time of the last request written (a <see cref="TimeProvider"/> timestamp).</summary>
    public long LastSentTimestamp => Interlocked.Read(ref _lastSentTimestamp);

    /// <summary>
    /// Runs the session: handshake, then heartbeats until the stream ends, the prover misbehaves or
    /// <paramref name="cancellationToken"/> (host shutdown or the call ending) fires.
    /// </summary>
    public async Task RunAsync(IProverSessionObserver observer, CancellationToken cancellationToken)
    {
        await using var registration = cancellationToken.Register(() => Close(StoppingReason));
        var reading = ReadLoopAsync();
        var connected = false;
        try
        {
            GetStatusResponse status;
            try
            {
                status = await RefreshStatusAsync(_options.HandshakeTimeout, "the handshake", _closed.Token).ConfigureAwait(false);
            }
            catch (ProverSessionClosedException) when (CloseReason?.StartsWith("no answer", StringComparison.Ordinal) == true)
            {
                LogHandshakeTimeout(Peer, _options.HandshakeTimeout.TotalSeconds);
                throw;
            }

            var (what, why) = Unacceptable(status.ProverName) is { } badName ? ("name", badName)
                : Unacceptable(status.ProverId) is { } badId ? ("id", badId) : ("", null);
            if (why is not null)
            {
                LogIdentityRefused(Peer, what, why);
                Close($"prover {what} refused: {why}");
                return;
            }

            Name = string.IsNullOrWhiteSpace(status.ProverName) ? Name : status.ProverName;
            InstanceId = string.IsNullOrWhiteSpace(status.ProverId) ? $"{Peer}/{_idPrefix}" : status.ProverId;
            if (status.ForkId != _options.ForkId)
            {
                LogForkRefused(Name, Peer, status.ForkId, _options.ForkId);
                Close($"fork id {status.ForkId} is not the configured {_options.ForkId}");
                return;
            }

            LogConnected(Name, InstanceId, Peer, status.Status.ToString());
            connected = true;
            observer.OnConnected(this);
            await HeartbeatLoopAsync(_closed.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (IsClosed)
        {
        }
        catch (ProverSessionClosedException)
        {
        }
        finally
        {
            Close("session ended");
            await reading.ConfigureAwait(false);
            if (connected)
            {
                LogDisconnected(Name, InstanceId, CloseReason ?? "");
                observer.OnDisconnected(this, CloseReason ?? "session ended");
            }
        }
    }

    /// <summary>Ends the session (idempotent); an outstanding request fails with the reason.</summary>
    public void Close(string reason)
    {
        TaskCompletionSource<ProverMessage>? pending;
        lock (_gate)
        {
            if (CloseReason is not null)
            {
                return;
            }

            CloseReason = reason;
            pending = _pending;
            _idleChanged.TrySetResult();
        }

        if (reason == StoppingReason)
        {
            LogStopping(Name, InstanceId);
        }
        else if (reason != "session ended")
        {
            LogClosing(Name, InstanceId, reason);
        }

        // Closed first: whoever the failed request wakes sees IsClosed (the generator then holds the job for the prover).
        _closed.Cancel();
        pending?.TrySetException(new ProverSessionClosedException(reason));
    }

    private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
    {
        var tick = TimeSpan.FromTicks(Math.Min(_options.HeartbeatInterval.Ticks / 4, _options.BusyStatusInterval.Ticks));
        using var timer = new PeriodicTimer(tick, _time);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            var silent = _time.GetElapsedTime(LastSentTimestamp);
            bool waitingForIdle;
            lock (_gate)
            {
                waitingForIdle = _jobsRunning == 0 && _lastStatus != GetStatusResponse.Types.Status.Idle &&
                                 _time.GetElapsedTime(_lastStatusTimestamp) >= _options.BusyStatusInterval;
            }

            if (silent >= _options.HeartbeatInterval - tick || waitingForIdle)
            {
                await RefreshStatusAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Asks the prover for its status (also the heartbeat).</summary>
    public Task<GetStatusResponse> RefreshStatusAsync(CancellationToken cancellationToken) =>
        RefreshStatusAsync(_options.ResponseTimeout, null, cancellationToken);

    private async Task<GetStatusResponse> RefreshStatusAsync(TimeSpan timeout, string? during, CancellationToken cancellationToken)
    {
        var (response, _) = await RequestAsync(new AggregatorMessage { GetStatusRequest = new GetStatusRequest() }, cancellationToken, timeout, during)
            .ConfigureAwait(false);
        if (response.ResponseCase != ProverMessage.ResponseOneofCase.GetStatusResponse)
        {
            throw Violation($"answered GetStatus with {response.ResponseCase}");
        }

        var status = response.GetStatusResponse;
        lock (_gate)
        {
            if (InstanceId.Length > 0 && status.ProverId.Length > 0 && status.ProverId != InstanceId)
            {
                // A new instance on the same stream cannot hold our jobs any more.
                throw Violation($"reported a new prover id '{status.ProverId}' on the same stream");
            }

            _lastStatus = status.Status;
            _lastStatusResponse = status;
            _lastStatusTimestamp = _time.GetTimestamp();
            if (_jobsRunning == 0 && status.Status == GetStatusResponse.Types.Status.Idle)
            {
                _idleChanged.TrySetResult();
            }
        }

        return status;
    }

    /// <summary>Waits until the prover is idle by our bookkeeping and by its last status.</summary>
    public async Task WaitUntilIdleAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (IsClosed)
                {
                    throw new ProverSessionClosedException(CloseReason ?? "session ended");
                }

                if (_jobsRunning == 0 && _lastStatus == GetStatusResponse.Types.Status.Idle)
                {
                    return;
                }

                if (_idleChanged.Task.IsCompleted)
                {
                    _idleChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                changed = _idleChanged.Task;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private ProverSessionClosedException Violation(string what)
    {
        var reason = $"protocol violation: {what}";
        Close(reason);
        return new ProverSessionClosedException(reason);
    }

    /// <summary>
    /// Sends one request and waits for its answer (lockstep). Returns the answer and the <see cref="Stopwatch"/>
    /// timestamp at which the request was written (the request's id is set on <paramref name="request"/>). Throws <see cref="ProverSessionClosedException"/> if the session
    /// ends first (the prover does not answer in time, echoes a wrong id, or the stream drops).
    /// </summary>
    private async Task<(ProverMessage Response, long WrittenAt)> RequestAsync(AggregatorMessage request, CancellationToken cancellationToken,
        TimeSpan? timeout = null, string? during = null)
    {
        var limit = timeout ?? _options.ResponseTimeout;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
        try
        {
            await _lane.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (IsClosed)
        {
            throw new ProverSessionClosedException(CloseReason ?? "session ended");
        }

        try
        {
            var pending = new TaskCompletionSource<ProverMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
            request.Id = _idPrefix + Interlocked.Increment(ref _requestCounter).ToString("x", System.Globalization.CultureInfo.InvariantCulture);
            lock (_gate)
            {
                if (CloseReason is not null)
                {
                    throw new ProverSessionClosedException(CloseReason);
                }

                _pending = pending;
                _pendingId = request.Id;
            }

            try
            {
                await _requests.WriteAsync(request, linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or RpcException or OperationCanceledException)
            {
                Close($"could not write to the stream: {ex.Message}");
                throw new ProverSessionClosedException(CloseReason!);
            }

            var writtenAt = Stopwatch.GetTimestamp();
            Interlocked.Exchange(ref _lastSentTimestamp, _time.GetTimestamp());
            try
            {
                var response = await pending.Task.WaitAsync(limit, _time, linked.Token).ConfigureAwait(false);
                return (response, writtenAt);
            }
            catch (TimeoutException)
            {
                Close($"no answer to {request.RequestCase}{(during is null ? "" : $" during {during}")} within {limit.TotalSeconds:0.###}s");
                throw new ProverSessionClosedException(CloseReason!);
            }
            catch (OperationCanceledException) when (IsClosed)
            {
                throw new ProverSessionClosedException(CloseReason ?? "session ended");
            }
        }
        finally
        {
            lock (_gate)
            {
                _pending = null;
                _pendingId = null;
            }

            _lane.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        await Task.Yield();
        try
        {
            while (await _responses.MoveNext(_closed.Token).ConfigureAwait(false))
            {
                Deliver(_responses.Current);
            }

            Close("the prover closed the stream");
        }
        catch (OperationCanceledException)
        {
            Close("session ended");
        }
        catch (Exception ex) when (ex is IOException or RpcException or InvalidOperationException or InvalidDataException)
        {
            Close($"the stream broke: {ex.Message}");
        }
    }

    private void Deliver(ProverMessage message)
    {
        TaskCompletionSource<ProverMessage>? pending;
        string? expected;
        lock (_gate)
        {
            pending = _pending;
            expected = _pendingId;
            if (pending is not null && message.Id == expected)
            {
                _pending = null;
                _pendingId = null;
            }
        }

        if (pending is null)
        {
            Close($"protocol violation: message id '{message.Id}' ({message.ResponseCase}) with no request outstanding");
        }
        else if (message.Id != expected)
        {
            Close($"protocol violation: echoed id '{message.Id}', expected '{expected}'");
        }
        else
        {
            pending.TrySetResult(message);
        }
    }

    /// <summary>Why a reported name or id is refused, or null when it is fine (empty is fine: a default is used).</summary>
    private static string? Unacceptable(string value)
    {
        if (value.Length > MaxIdentityLength)
        {
            return $"{value.Length} characters long, at most {MaxIdentityLength} are accepted";
        }

        return value.Any(char.IsControl) ? "it contains control characters" : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closed a prover stream from {Peer}: no answer to the first GetStatus within {Seconds}s (Provers:HandshakeTimeout)")]
    private partial void LogHandshakeTimeout(string peer, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Refused a prover from {Peer}: its {What} is {Why}")]
    private partial void LogIdentityRefused(string peer, string what, string why);

    [LoggerMessage(Level = LogLevel.Information, Message = "Prover {Prover} ({Instance}) connected from {Peer}, status {Status}")]
    private partial void LogConnected(string prover, string instance, string peer, string status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Refused prover {Prover} from {Peer}: it reports fork id {ForkId}, the aggregator is configured for fork id {Expected}")]
    private partial void LogForkRefused(string prover, string peer, ulong forkId, ulong expected);

    private const string StoppingReason = "the aggregator is stopping or the call ended";

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ending session of prover {Prover} ({Instance}): the aggregator is stopping or the stream was closed")]
    private partial void LogStopping(string prover, string instance);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ending session of prover {Prover} ({Instance}): {Reason}")]
    private partial void LogClosing(string prover, string instance, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Prover {Prover} ({Instance}) answers GetProof at once (it ignores the timeout): polling it adaptively")]
    private partial void LogNoLongPoll(string prover, string instance);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Prover {Prover} ({Instance}) has no proof for job {JobId} after {Limit} (the maximum job time): sent Cancel (confirmed: {Cancelled})")]
    private partial void LogJobExpired(string prover, string instance, string jobId, string limit, bool cancelled);

    [LoggerMessage(Level = LogLevel.Information, Message = "Prover {Prover} ({Instance}) disconnected: {Reason}")]
    private partial void LogDisconnected(string prover, string instance, string reason);
}
