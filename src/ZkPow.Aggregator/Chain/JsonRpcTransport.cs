using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace ZkPow.Aggregator.Chain;

/// <summary>
/// JSON-RPC 2.0 over HTTP to one or more equivalent endpoints (the base chain's, or the rollup node's), with the
/// retries in one place (a Polly pipeline): transient failures (HTTP 429/5xx, connection errors, timeouts, invalid
/// JSON, server errors that are not definite answers, a backend that lags) are retried with jittered exponential
/// backoff, at once on another endpoint when there is one, until the call's budget is spent; then the call throws
/// <see cref="ChainUnavailableException"/>. Definite answers (results, reverts, invalid params, unknown methods) are
/// returned or thrown as <see cref="EthRpcException"/> at once. Endpoints are tried healthiest first (one that asked
/// to be left alone with <c>Retry-After</c> last while it asks, then fewest recent failures, then latency). With more
/// than one endpoint a request that has no answer after the hedge delay (twice the endpoint's recent p95 latency,
/// between <see cref="RpcRetryOptions.HedgeMin"/> and <see cref="RpcRetryOptions.HedgeAfter"/>) is hedged: the same
/// request goes to the next healthiest endpoint too, the first definite answer wins and the other request is
/// cancelled. URLs appear in logs and errors only as scheme://host:port.
/// </summary>
public sealed partial class JsonRpcTransport : IDisposable
{
    private static readonly ResiliencePropertyKey<CallState> StateKey = new("zkpow.rpc.call");
    private static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(30);

    private readonly RpcEndpoint[] _endpoints;
    private readonly RpcRetryOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _pipeline;
    private long _nextId;
    private long _calls;
    private long _retries;
    private long _failures;
    private long _hedges;
    private long _hedgeWins;
    private long _backoffsCutShort;
    private readonly Lock _upGate = new();
    private TaskCompletionSource _endpointUp = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public JsonRpcTransport(IEnumerable<string> urls, RpcRetryOptions options, ILogger logger, TimeProvider time)
    {
        options.Validate();
        var uris = RpcErrors.ParseUrls(urls, "url");
        if (uris.Count == 0)
        {
            throw new ArgumentException("at least one http(s) URL is needed", nameof(urls));
        }

        _endpoints = [.. uris.Select(u => new RpcEndpoint(u))];
        _options = options;
        _logger = logger;
        _time = time;
        _pipeline = BuildPipeline();
    }

    /// <summary>A single endpoint without retries: every call is one request (as a bare client).</summary>
    public JsonRpcTransport(string url, TimeSpan timeout)
        : this([url], RpcRetryOptions.SingleAttempt(timeout), NullLogger.Instance, TimeProvider.System)
    {
    }

    /// <summary>The endpoints as scheme://host:port (safe to log).</summary>
    public IReadOnlyList<string> Endpoints => [.. _endpoints.Select(e => e.Name)];

    /// <summary>The first endpoint's URL as configured (it may hold a key: never log it).</summary>
    public string FirstUrl => _endpoints[0].Uri.OriginalString;

    public RpcRetryOptions Options => _options;

    /// <summary>Calls made (each with all its retries counts once).</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Attempts that were retried after a transient failure.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Attempts that failed transiently (on any endpoint).</summary>
    public long TransientFailures => Interlocked.Read(ref _failures);

    /// <summary>Requests sent to another endpoint because the first had no answer after the hedge delay.</summary>
    public long Hedges => Interlocked.Read(ref _hedges);

    /// <summary>Calls answered by a hedged request (the one it raced was cancelled).</summary>
    public long HedgeWins => Interlocked.Read(ref _hedgeWins);

    /// <summary>Whether calls are hedged (more than one endpoint, retries, and <see cref="RpcRetryOptions.HedgeAfter"/> &gt; 0).</summary>
    public bool Hedging => _endpoints.Length > 1 && _options.HedgeAfter > TimeSpan.Zero && _options.MaxAttempts != 1;

    /// <summary>Calls <paramref name="method"/>; returns its result (a clone). <paramref name="lagging"/> may look at
    /// a result and name why it comes from a backend that lags (then the call is retried, on another endpoint first).</summary>
    public Task<JsonElement> CallAsync(string method, JsonArray parameters, CancellationToken cancellationToken,
        Func<JsonElement, string?>? lagging = null) =>
        RetryAsync(method, async (endpoint, token) =>
        {
            var request = Request(Interlocked.Increment(ref _nextId), method, parameters);
            using var document = await PostAsync(endpoint, request, method, token).ConfigureAwait(false);
            var reply = Parse(document.RootElement, method);
            if (reply.Error is { } error)
            {
                throw RpcErrors.IsTransient(error) ? new RpcTransientException($"{method}: {endpoint.Name} answered {error.Code}: {error.RpcMessage}", error) : error;
            }

            return lagging?.Invoke(reply.Result) is { } reason
                ? throw new RpcTransientException($"{method}: {endpoint.Name} {reason}")
                : reply.Result;
        }, cancellationToken);

    /// <summary>Sends the calls as one batch (one endpoint answers all of them); the replies are in the order of
    /// <paramref name="calls"/>. A transient error in any reply retries the whole batch; definite errors are returned
    /// in their replies. <paramref name="lagging"/> may name why the replies come from a backend that lags.</summary>
    public async Task<IReadOnlyList<EthRpcReply>> BatchAsync(IReadOnlyList<(string Method, JsonArray Parameters)> calls,
        CancellationToken cancellationToken, Func<IReadOnlyList<EthRpcReply>, string?>? lagging = null)
    {
        if (calls.Count == 0)
        {
            return [];
        }

        return await RetryAsync("batch", async (endpoint, token) =>
        {
            var first = Interlocked.Add(ref _nextId, calls.Count) - calls.Count + 1;
            var batch = new JsonArray();
            for (var i = 0; i < calls.Count; i++)
            {
                batch.Add(Request(first + i, calls[i].Method, calls[i].Parameters));
            }

            using var document = await PostAsync(endpoint, batch, "batch", token).ConfigureAwait(false);
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                // Some nodes answer a whole batch with one error object.
                var error = Parse(document.RootElement, "batch").Error;
                throw error is null || RpcErrors.IsTransient(error)
                    ? new RpcTransientException($"batch: {endpoint.Name} answered {(error is null ? "no array" : $"{error.Code}: {error.RpcMessage}")}", error)
                    : error;
            }

            var replies = new EthRpcReply[calls.Count];
            var seen = new bool[calls.Count];
            foreach (var item in document.RootElement.EnumerateArray())
            {
                if (!item.TryGetProperty("id", out var idElement) || !idElement.TryGetInt64(out var id) || id < first || id >= first + calls.Count)
                {
                    continue;
                }

                var index = (int)(id - first);
                replies[index] = Parse(item, calls[index].Method);
                seen[index] = true;
                if (replies[index].Error is { } error && RpcErrors.IsTransient(error))
                {
                    throw new RpcTransientException($"{calls[index].Method}: {endpoint.Name} answered {error.Code}: {error.RpcMessage}", error);
                }
            }

            if (Array.IndexOf(seen, false) is var missing and >= 0)
            {
                throw new RpcTransientException($"batch: {endpoint.Name} sent no answer for {calls[missing].Method}");
            }

            return lagging?.Invoke(replies) is { } reason ? throw new RpcTransientException($"batch: {endpoint.Name} {reason}") : replies;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends one call to every endpoint at once, one attempt each (no retry); the replies in endpoint order.
    /// When <paramref name="enough"/> is given, returns as soon as one reply satisfies it, with the replies in by then
    /// (in endpoint order); the other requests go on (each within the request timeout), so every endpoint still gets
    /// the call, but nobody waits for a stalled one.</summary>
    public async Task<IReadOnlyList<RpcEndpointReply>> CallEachAsync(string method, JsonArray parameters, CancellationToken cancellationToken,
        Func<RpcEndpointReply, bool>? enough = null)
    {
        var all = _endpoints.Select(endpoint => OneReplyAsync(endpoint, method, parameters, cancellationToken)).ToList();
        if (enough is not null)
        {
            var pending = all.ToList();
            while (pending.Count > 1)
            {
                var done = await Task.WhenAny(pending).ConfigureAwait(false);
                pending.Remove(done);
                if (enough(await done.ConfigureAwait(false)))
                {
                    foreach (var rest in pending)
                    {
                        Observe(rest);
                    }

                    return [.. all.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result)];
                }
            }
        }

        return await Task.WhenAll(all).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends one call to every endpoint at once and returns as soon as one reply satisfies <paramref name="accepted"/>
    /// (the replies in by then, in endpoint order), else once every endpoint has given its last reply. An endpoint whose
    /// attempt failed transiently (a lost reply, a 503, a timeout) is asked again after a hedge delay (or after its
    /// <c>Retry-After</c>), up to <see cref="BroadcastTries"/> times, while no endpoint has accepted; so one failing
    /// endpoint while another stalls costs a hedge delay, not the stall. Requests still running when one endpoint
    /// accepted go on (each within the request timeout), so every endpoint still gets the call. For idempotent calls
    /// (the same signed transaction).
    /// </summary>
    public async Task<IReadOnlyList<RpcEndpointReply>> BroadcastAsync(string method, JsonArray parameters, Func<RpcEndpointReply, bool> accepted,
        CancellationToken cancellationToken)
    {
        // Never disposed: the per-endpoint loops may still look at it after the first acceptance returned.
        var settled = new CancellationTokenSource();
        async Task<RpcEndpointReply> EndpointAsync(RpcEndpoint endpoint)
        {
            for (var tries = 1; ; tries++)
            {
                var reply = await OneReplyAsync(endpoint, method, parameters, cancellationToken).ConfigureAwait(false);
                if (reply.Failure is null || tries >= BroadcastTries || settled.IsCancellationRequested || accepted(reply))
                {
                    return reply;
                }

                var cooling = endpoint.CoolingLeft(_time.GetUtcNow().ToUnixTimeMilliseconds());
                var hedge = _options.HedgeAfter > TimeSpan.Zero ? _options.HedgeDelay(endpoint.LatencyP95()) : _options.RetryBaseDelay;
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, settled.Token);
                try
                {
                    await Task.Delay(cooling > hedge ? cooling : hedge, _time, wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return reply; // Another endpoint accepted it.
                }

                Interlocked.Increment(ref _retries);
            }
        }

        var all = _endpoints.Select(EndpointAsync).ToList();
        var pending = all.ToList();
        while (pending.Count > 1)
        {
            var done = await Task.WhenAny(pending).ConfigureAwait(false);
            pending.Remove(done);
            if (accepted(await done.ConfigureAwait(false)))
            {
                await settled.CancelAsync().ConfigureAwait(false);
                foreach (var rest in pending)
                {
                    Observe(rest);
                }

                return [.. all.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result)];
            }
        }

        return await Task.WhenAll(all).ConfigureAwait(false);
    }

    /// <summary>How many times <see cref="BroadcastAsync"/> asks one endpoint that fails transiently.</summary>
    public const int BroadcastTries = 3;

    /// <summary>One attempt of a call on one endpoint: its result, its error answer, or its transient failure.</summary>
    private async Task<RpcEndpointReply> OneReplyAsync(RpcEndpoint endpoint, string method, JsonArray parameters, CancellationToken cancellationToken)
    {
        try
        {
            var result = await AttemptAsync(endpoint, method, async token =>
            {
                var request = Request(Interlocked.Increment(ref _nextId), method, parameters);
                using var document = await PostAsync(endpoint, request, method, token).ConfigureAwait(false);
                var reply = Parse(document.RootElement, method);
                return reply.Error is { } error && RpcErrors.IsTransient(error)
                    ? throw new RpcTransientException($"{method}: {endpoint.Name} answered {error.Code}: {error.RpcMessage}", error)
                    : reply;
            }, cancellationToken).ConfigureAwait(false);
            return new RpcEndpointReply(endpoint.Name, result.Result, result.Error, null);
        }
        catch (RpcTransientException e)
        {
            return new RpcEndpointReply(endpoint.Name, default, null, e.Message);
        }
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> on the healthiest endpoint not tried yet in this call, retrying while it throws
    /// <see cref="RpcTransientException"/> within the budget; then a <see cref="ChainUnavailableException"/> carrying
    /// the last reason. Cancellation of <paramref name="cancellationToken"/> ends it at once.
    /// </summary>
    /// <remarks>With <paramref name="hedge"/> (and <see cref="Hedging"/>), an attempt without an answer after the hedge
    /// delay is raced by the same attempt on the next endpoint not tried yet; <paramref name="attempt"/> must then be
    /// idempotent.</remarks>
    internal async Task<T> RetryAsync<T>(string what, Func<RpcEndpoint, CancellationToken, Task<T>> attempt, CancellationToken cancellationToken,
        bool hedge = true)
    {
        Interlocked.Increment(ref _calls);
        var state = new CallState(what);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(StateKey, state);
        var clock = Stopwatch.StartNew();
        try
        {
            return await _pipeline.ExecuteAsync(async ctx =>
            {
                await BackOffAsync(state, ctx.CancellationToken).ConfigureAwait(false);
                var endpoint = Pick(state);
                try
                {
                    return hedge && Hedging
                        ? await HedgedAsync(state, endpoint, attempt, ctx.CancellationToken).ConfigureAwait(false)
                        : await AttemptAsync(endpoint, what, token => attempt(endpoint, token), ctx.CancellationToken).ConfigureAwait(false);
                }
                catch (RpcTransientException e)
                {
                    state.LastError = e.Message;
                    throw;
                }
            }, context).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ChainUnavailableException(
                UrlRedaction.Redact($"{state.LastError ?? what + ": no answer"} (gave up after {state.Attempts} attempts in {clock.Elapsed.TotalSeconds:0.0}s)"), e);
        }
        catch (RpcTransientException e)
        {
            throw new ChainUnavailableException(UrlRedaction.Redact(state.Attempts > 1 ? $"{e.Message} (gave up after {state.Attempts} attempts)" : e.Message),
                e.InnerException ?? e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    public void Dispose()
    {
        foreach (var endpoint in _endpoints)
        {
            endpoint.Dispose();
        }
    }

    private ResiliencePipeline BuildPipeline()
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = _time };
        if (_options.CallBudget != Timeout.InfiniteTimeSpan)
        {
            builder.AddTimeout(_options.CallBudget);
        }

        if (_options.MaxAttempts != 1)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<RpcTransientException>(),
                MaxRetryAttempts = _options.MaxAttempts == 0 ? int.MaxValue : _options.MaxAttempts - 1,
                // Another endpoint not tried yet in this call is tried at once; when all were, back off (BackoffDelay).
                // The backoff is waited at the start of the next attempt (BackOffAsync), where an endpoint that answers
                // again after a run of failures cuts it short: Polly itself never waits.
                DelayGenerator = args =>
                {
                    if (args.Context.Properties.GetValue(StateKey, null!) is { } s)
                    {
                        if (s.Untried(_endpoints.Length))
                        {
                            s.PlanBackoff(TimeSpan.Zero, null);
                        }
                        else
                        {
                            s.PlanBackoff(BackoffDelay(s.Backoffs), EndpointUpSignal());
                        }
                    }

                    return ValueTask.FromResult<TimeSpan?>(TimeSpan.Zero);
                },
                OnRetry = args =>
                {
                    Interlocked.Increment(ref _retries);
                    var s = args.Context.Properties.GetValue(StateKey, null!);
                    LogRetrying(s?.What ?? "call", args.AttemptNumber + 1, (s?.PlannedBackoff ?? TimeSpan.Zero).TotalMilliseconds,
                        UrlRedaction.Redact(args.Outcome.Exception?.Message ?? "?"));
                    return ValueTask.CompletedTask;
                },
            });
        }

        return builder.Build();
    }

    /// <summary>The <paramref name="n"/>th backoff of a call (from 0): <see cref="RpcRetryOptions.RetryBaseDelay"/> doubled
    /// n times, at most <see cref="RpcRetryOptions.RetryMaxDelay"/>, between half of that and all of it (jitter).</summary>
    private TimeSpan BackoffDelay(int n)
    {
        var full = Math.Min(_options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(n, 30)), _options.RetryMaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(full * (0.5 + Random.Shared.NextDouble() * 0.5));
    }

    /// <summary>Completes when an endpoint answers again after a run of failures (<see cref="RpcEndpoint.WarnAfterFailures"/>
    /// or more in a row): after an outage, calls backing off then retry at once instead of sleeping on.</summary>
    private Task EndpointUpSignal()
    {
        lock (_upGate)
        {
            return _endpointUp.Task;
        }
    }

    private void EndpointUp()
    {
        TaskCompletionSource up;
        lock (_upGate)
        {
            up = _endpointUp;
            _endpointUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        up.TrySetResult();
    }

    /// <summary>Waits the backoff planned for this call, if any, or until an endpoint answers again, whichever is first.</summary>
    private async Task BackOffAsync(CallState state, CancellationToken cancellationToken)
    {
        if (state.TakeBackoff() is not var (delay, up))
        {
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sleep = Task.Delay(delay, _time, stop.Token);
        if (await Task.WhenAny(sleep, up).ConfigureAwait(false) == up)
        {
            Interlocked.Increment(ref _backoffsCutShort);
        }

        await stop.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Backoffs ended early because an endpoint answered again after a run of failures.</summary>
    public long BackoffsCutShort => Interlocked.Read(ref _backoffsCutShort);

    private RpcEndpoint Pick(CallState state) => state.Next(_endpoints, _time.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>
    /// One attempt that starts on <paramref name="first"/> and is hedged: while no request has answered, each hedge
    /// delay (of the newest request's endpoint) sends the same request to the healthiest endpoint not tried yet in this
    /// round, or, once all were, to the healthiest one without a request running here that has not asked to be left
    /// alone (one that failed at once is so tried again while a stalled request waits); a transient failure moves on
    /// at once to an endpoint not tried yet while another request is still running. The first definite
    /// answer (a result or an <see cref="EthRpcException"/>) wins and the other requests are cancelled; when every
    /// request failed transiently the last failure is thrown (the pipeline then retries, with backoff once every
    /// endpoint was tried).
    /// </summary>
    private async Task<T> HedgedAsync<T>(CallState state, RpcEndpoint first, Func<RpcEndpoint, CancellationToken, Task<T>> attempt,
        CancellationToken cancellationToken)
    {
        using var race = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = new List<(Task<T> Task, RpcEndpoint Endpoint, long Started)>();
        var last = (Endpoint: first, Started: 0L);
        void Start(RpcEndpoint endpoint)
        {
            last = (endpoint, Stopwatch.GetTimestamp());
            running.Add((AttemptAsync(endpoint, state.What, token => attempt(endpoint, token), race.Token), endpoint, last.Started));
        }

        Start(first);
        var hedged = false;
        try
        {
            while (true)
            {
                Task? timer = null;
                if (HedgeWait(state, running.Select(r => r.Endpoint)) is { } after)
                {
                    // A hedge delay after the latest request went out (a failed one included: no request storm), and
                    // not before an endpoint that asked to be left alone may be asked again.
                    var wait = _options.HedgeDelay(last.Endpoint.LatencyP95()) - Stopwatch.GetElapsedTime(last.Started);
                    wait = after > wait ? after : wait;
                    timer = Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, _time, race.Token);
                }

                var done = await Task.WhenAny(timer is null ? running.Select(r => (Task)r.Task) : running.Select(r => (Task)r.Task).Append(timer))
                    .ConfigureAwait(false);
                if (done == timer)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (HedgeTarget(state, running.Select(r => r.Endpoint)) is { } next)
                    {
                        Interlocked.Increment(ref _hedges);
                        hedged = true;
                        LogHedging(state.What, Stopwatch.GetElapsedTime(last.Started).TotalMilliseconds, next.Name);
                        Start(next);
                    }

                    continue;
                }

                var index = running.FindIndex(r => r.Task == done);
                var finished = running[index];
                running.RemoveAt(index);
                if (finished.Task.IsCompletedSuccessfully || finished.Task.Exception?.InnerException is EthRpcException || finished.Task.IsCanceled)
                {
                    if (hedged && finished.Endpoint != first && !finished.Task.IsCanceled)
                    {
                        Interlocked.Increment(ref _hedgeWins);
                    }

                    // A definite answer (or the call's cancellation): returned or thrown as it is.
                    return await finished.Task.ConfigureAwait(false);
                }

                try
                {
                    await finished.Task.ConfigureAwait(false);
                }
                catch (RpcTransientException e)
                {
                    state.LastError = e.Message;
                    if (running.Count == 0)
                    {
                        throw;
                    }
                }

                // Another request still runs: the failed one's place goes at once to an endpoint not tried yet.
                if (state.NextUntried(_endpoints, _time.GetUtcNow().ToUnixTimeMilliseconds()) is { } instead)
                {
                    Interlocked.Increment(ref _retries);
                    Start(instead);
                }
            }
        }
        finally
        {
            await race.CancelAsync().ConfigureAwait(false);
            foreach (var loser in running)
            {
                loser.Endpoint.Slow(Stopwatch.GetElapsedTime(loser.Started).TotalMilliseconds);
                Observe(loser.Task);
            }
        }
    }

    /// <summary>Where a hedge goes: the healthiest endpoint not tried yet in this round; else (every endpoint was tried,
    /// some failed at once) the healthiest one without a request running in this attempt that has not asked to be left
    /// alone (<c>Retry-After</c>); null when there is none. It counts as an attempt of the call.</summary>
    private RpcEndpoint? HedgeTarget(CallState state, IEnumerable<RpcEndpoint> running)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (state.NextUntried(_endpoints, now) is { } untried)
        {
            return untried;
        }

        var target = Idle(running, now).MinBy(e => e.Score(now));
        if (target is not null)
        {
            state.Retried();
        }

        return target;
    }

    /// <summary>How long until <see cref="HedgeTarget"/> finds an endpoint: zero when it would now, the shortest
    /// <c>Retry-After</c> left when the only endpoints without a request running here asked to be left alone, null
    /// when every endpoint has a request running here.</summary>
    private TimeSpan? HedgeWait(CallState state, IEnumerable<RpcEndpoint> running)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (state.Untried(_endpoints.Length))
        {
            return TimeSpan.Zero;
        }

        var busy = running.ToHashSet();
        var idle = _endpoints.Where(e => !busy.Contains(e)).Select(e => e.CoolingLeft(now)).ToList();
        return idle.Count == 0 ? null : idle.Min();
    }

    /// <summary>The endpoints without a request running in this attempt that have not asked to be left alone.</summary>
    private IEnumerable<RpcEndpoint> Idle(IEnumerable<RpcEndpoint> running, long nowMs)
    {
        var busy = running.ToHashSet();
        return _endpoints.Where(e => !busy.Contains(e) && !e.IsCooling(nowMs));
    }

    /// <summary>A request left running (or cancelled) whose outcome nobody awaits: its failure is observed here.</summary>
    private static void Observe(Task task) =>
        _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    /// <summary>One attempt on one endpoint with the request timeout; transport failures become
    /// <see cref="RpcTransientException"/>; the endpoint's health is updated.</summary>
    private async Task<T> AttemptAsync<T>(RpcEndpoint endpoint, string what, Func<CancellationToken, Task<T>> body, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var clock = Stopwatch.StartNew();
        try
        {
            var result = await body(linked.Token).ConfigureAwait(false);
            Healthy(endpoint, clock);
            return result;
        }
        catch (EthRpcException)
        {
            Healthy(endpoint, clock);
            throw;
        }
        catch (RpcTransientException e)
        {
            Unhealthy(endpoint, e.Message);
            if (e.RetryAfter is { } retryAfter)
            {
                endpoint.CoolDown(_time.GetUtcNow().Add(retryAfter).ToUnixTimeMilliseconds());
            }

            throw;
        }
        catch (OperationCanceledException e) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw Unhealthy(endpoint, $"{what}: the node at {endpoint.Name} did not answer in time ({_options.RequestTimeout.TotalSeconds:0.###}s)", e);
        }
        catch (HttpRequestException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unhealthy(endpoint, $"{what}: the node at {endpoint.Name} is unreachable ({RpcErrors.Redact(e.Message, endpoint.Uri)})", e);
        }
        catch (IOException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unhealthy(endpoint, $"{what}: the connection to {endpoint.Name} broke ({RpcErrors.Redact(e.Message, endpoint.Uri)})", e);
        }
        catch (JsonException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unhealthy(endpoint, $"{what}: the node at {endpoint.Name} sent invalid JSON", e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException && cancellationToken.IsCancellationRequested)
        {
            // The connection broke as the caller cancelled (a stop): the caller sees its cancellation, as it would have
            // a moment later, not a transport failure it would take for the node's.
            throw new OperationCanceledException($"{what}: cancelled", e, cancellationToken);
        }
    }

    private void Healthy(RpcEndpoint endpoint, Stopwatch clock)
    {
        endpoint.Succeeded(clock.Elapsed.TotalMilliseconds, out var recovered, out var wasDown);
        if (recovered)
        {
            LogEndpointRecovered(endpoint.Name);
        }

        if (wasDown)
        {
            EndpointUp();
        }
    }

    private RpcTransientException Unhealthy(RpcEndpoint endpoint, string reason, Exception? inner = null)
    {
        Interlocked.Increment(ref _failures);
        if (endpoint.Failed(_time.GetUtcNow().ToUnixTimeMilliseconds(), WarningInterval, out var failures))
        {
            LogEndpointFailing(endpoint.Name, failures, UrlRedaction.Redact(reason));
        }

        return new RpcTransientException(reason, inner);
    }

    private static async Task<JsonDocument> PostAsync(RpcEndpoint endpoint, JsonNode body, string what, CancellationToken cancellationToken)
    {
        using var response = await endpoint.Http.PostAsJsonAsync(string.Empty, body, cancellationToken).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            // A JSON-RPC answer with an HTTP error status (some providers) is classified by its content.
            if (TryParse(bytes) is { } answer)
            {
                return answer;
            }

            throw new RpcTransientException($"{what}: the node at {endpoint.Name} answered HTTP {(int)response.StatusCode}", null, RetryAfter(response));
        }

        return JsonDocument.Parse(bytes);
    }

    /// <summary>The <c>Retry-After</c> of an answer (seconds or a date), capped at a minute; null when there is none.</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        var wait = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        return wait is { } w && w > TimeSpan.Zero ? (w > MaxRetryAfter ? MaxRetryAfter : w) : null;
    }

    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(1);

    private static JsonDocument? TryParse(byte[] bytes)
    {
        try
        {
            var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind == JsonValueKind.Array ||
                (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out _)))
            {
                return document;
            }

            document.Dispose();
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static JsonObject Request(long id, string method, JsonArray parameters) => new()
    {
        ["jsonrpc"] = "2.0",
        ["id"] = id,
        ["method"] = method,
        ["params"] = parameters.DeepClone(),
    };

    internal static EthRpcReply Parse(JsonElement root, string method)
    {
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
        {
            var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var n) ? n : 0;
            var message = error.TryGetProperty("message", out var m) ? m.ToString() : string.Empty;
            return new EthRpcReply(default, new EthRpcException(method, code, message, ErrorData(error)));
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("result", out var result))
        {
            throw new JsonException($"{method}: the answer has neither result nor error");
        }

        return new EthRpcReply(result.Clone(), null);
    }

    private static string? ErrorData(JsonElement error)
    {
        if (!error.TryGetProperty("data", out var data))
        {
            return null;
        }

        if (data.ValueKind == JsonValueKind.String && data.GetString() is { } text && text.StartsWith("0x", StringComparison.Ordinal))
        {
            return text;
        }

        return data.ValueKind == JsonValueKind.Object && data.TryGetProperty("data", out var inner) && inner.ValueKind == JsonValueKind.String
            ? inner.GetString()
            : null;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "JSON-RPC {What}: attempt {Attempt} in {DelayMs} ms after: {Reason}")]
    private partial void LogRetrying(string what, int attempt, double delayMs, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "JSON-RPC endpoint {Endpoint} failed {Failures} times in a row (last: {Reason}); calls go to other endpoints or are retried")]
    private partial void LogEndpointFailing(string endpoint, int failures, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "JSON-RPC endpoint {Endpoint} answers again")]
    private partial void LogEndpointRecovered(string endpoint);

    [LoggerMessage(Level = LogLevel.Debug, Message = "JSON-RPC {What}: no answer after {WaitedMs:0} ms, hedged to {Endpoint}")]
    private partial void LogHedging(string what, double waitedMs, string endpoint);

    /// <summary>One call's retry state: the endpoints it tried in this round, its attempts, the last reason.</summary>
    private sealed class CallState(string what)
    {
        private readonly Lock _gate = new();
        private readonly HashSet<RpcEndpoint> _tried = [];

        public string What { get; } = what;

        public int Attempts { get; private set; }

        public string? LastError { get; set; }

        /// <summary>Backoffs planned so far in this call.</summary>
        public int Backoffs { get; private set; }

        /// <summary>The last backoff planned (for the log).</summary>
        public TimeSpan PlannedBackoff { get; private set; }

        private (TimeSpan Delay, Task Up)? _backoff;

        /// <summary>A backoff of <paramref name="delay"/> before the next attempt, cut short by <paramref name="up"/>
        /// (taken when the backoff is decided, so that an endpoint coming back before the wait starts is not missed);
        /// with no <paramref name="up"/>, none (the next attempt goes to another endpoint at once).</summary>
        public void PlanBackoff(TimeSpan delay, Task? up)
        {
            lock (_gate)
            {
                PlannedBackoff = delay;
                if (up is null)
                {
                    _backoff = null; // Another endpoint is tried at once.
                    return;
                }

                _backoff = (delay, up);
                Backoffs++;
            }
        }

        public (TimeSpan Delay, Task Up)? TakeBackoff()
        {
            lock (_gate)
            {
                var backoff = _backoff;
                _backoff = null;
                return backoff;
            }
        }

        public bool Untried(int endpoints)
        {
            lock (_gate)
            {
                return _tried.Count < endpoints;
            }
        }

        /// <summary>Counts an attempt on an endpoint tried already in this round (a hedge after it failed at once).</summary>
        public void Retried()
        {
            lock (_gate)
            {
                Attempts++;
            }
        }

        /// <summary>The healthiest endpoint not tried yet in this round, or null when all were (the round goes on).</summary>
        public RpcEndpoint? NextUntried(RpcEndpoint[] endpoints, long nowMs)
        {
            lock (_gate)
            {
                var best = endpoints.Where(e => !_tried.Contains(e)).MinBy(e => e.Score(nowMs));
                if (best is not null)
                {
                    _tried.Add(best);
                    Attempts++;
                }

                return best;
            }
        }

        /// <summary>The healthiest endpoint not tried yet in this round (a new round once all were tried).</summary>
        public RpcEndpoint Next(RpcEndpoint[] endpoints, long nowMs)
        {
            lock (_gate)
            {
                if (_tried.Count >= endpoints.Length)
                {
                    _tried.Clear();
                }

                var best = endpoints.Where(e => !_tried.Contains(e)).MinBy(e => e.Score(nowMs))!;
                _tried.Add(best);
                Attempts++;
                return best;
            }
        }
    }
}
