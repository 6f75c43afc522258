namespace ZkPow.Aggregator.Chain;

/// <summary>One JSON-RPC endpoint of a <see cref="JsonRpcTransport"/>: its HTTP client and how healthy it has been
/// lately (failures in a row, a smoothed latency, the recent latencies' p95 for the hedge delay, a <c>Retry-After</c>
/// it asked for), from which the transport picks where to send a call.</summary>
internal sealed class RpcEndpoint : IDisposable
{
    /// <summary>Failures older than this no longer count against an endpoint (it gets another chance).</summary>
    private static readonly TimeSpan FailureMemory = TimeSpan.FromSeconds(60);

    private readonly Lock _gate = new();
    private int _failuresInRow;
    private long _lastFailureMs = long.MinValue;
    private double _latencyMs = 50;
    private long _lastWarningMs = long.MinValue;
    private readonly double[] _recent = new double[RecentSamples];
    private int _samples;
    private int _next;
    private long _coolUntilMs = long.MinValue;

    /// <summary>How many recent answer latencies the p95 is taken over.</summary>
    private const int RecentSamples = 64;

    /// <summary>The p95 needs this many samples before it is trusted.</summary>
    private const int MinSamples = 8;

    public RpcEndpoint(Uri uri)
    {
        Uri = uri;
        Name = RpcErrors.Redact(uri);
        Http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        {
            BaseAddress = uri,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public Uri Uri { get; }

    /// <summary>scheme://host:port, the only form of the URL that is logged.</summary>
    public string Name { get; }

    public HttpClient Http { get; }

    public int FailuresInRow
    {
        get
        {
            lock (_gate)
            {
                return _failuresInRow;
            }
        }
    }

    /// <summary>Lower is better: an endpoint that asked to be left alone (<c>Retry-After</c>) comes last while it
    /// asks; recent failures in a row weigh a second each, then the smoothed latency.</summary>
    public double Score(long nowMs)
    {
        lock (_gate)
        {
            var failures = nowMs - _lastFailureMs > FailureMemory.TotalMilliseconds ? 0 : _failuresInRow;
            var cooling = nowMs < _coolUntilMs ? 1_000_000.0 : 0;
            return cooling + (failures * 1000.0) + _latencyMs;
        }
    }

    /// <summary>Whether the endpoint asked (<c>Retry-After</c>) not to be called before a time still to come.</summary>
    public bool IsCooling(long nowMs) => CoolingLeft(nowMs) > TimeSpan.Zero;

    /// <summary>How much longer the endpoint asked (<c>Retry-After</c>) not to be called; zero when it did not.</summary>
    public TimeSpan CoolingLeft(long nowMs)
    {
        lock (_gate)
        {
            return nowMs < _coolUntilMs ? TimeSpan.FromMilliseconds(_coolUntilMs - nowMs) : TimeSpan.Zero;
        }
    }

    /// <summary>The 95th percentile of the recent answers' latencies; null while there are too few.</summary>
    public TimeSpan? LatencyP95()
    {
        double[] samples;
        lock (_gate)
        {
            if (_samples < MinSamples)
            {
                return null;
            }

            samples = _recent[.._samples];
        }

        Array.Sort(samples);
        return TimeSpan.FromMilliseconds(samples[(int)Math.Ceiling(samples.Length * 0.95) - 1]);
    }

    /// <summary>The endpoint asked (HTTP 429/503 with <c>Retry-After</c>) not to be called again before then: other
    /// endpoints are preferred until then; the call itself does not wait for it.</summary>
    public void CoolDown(long untilMs)
    {
        lock (_gate)
        {
            _coolUntilMs = Math.Max(_coolUntilMs, untilMs);
        }
    }

    /// <summary>An answer came. <paramref name="recovered"/>: it ends a run of failures that was warned about;
    /// <paramref name="wasDown"/>: it ends a run of at least <see cref="WarnAfterFailures"/> failures.</summary>
    public void Succeeded(double latencyMs, out bool recovered, out bool wasDown)
    {
        lock (_gate)
        {
            wasDown = _failuresInRow >= WarnAfterFailures;
            recovered = wasDown && _lastWarningMs != long.MinValue;
            _failuresInRow = 0;
            _lastWarningMs = recovered ? long.MinValue : _lastWarningMs;
            _latencyMs = _latencyMs * 0.8 + latencyMs * 0.2;
            _recent[_next] = latencyMs;
            _next = (_next + 1) % RecentSamples;
            _samples = Math.Min(_samples + 1, RecentSamples);
        }
    }

    /// <summary>A request that lost a hedge race was cancelled after <paramref name="elapsedMs"/> without an answer: it
    /// counts as that slow for the choice of endpoint (not for the p95 of answers, which sets the hedge delay).</summary>
    public void Slow(double elapsedMs)
    {
        lock (_gate)
        {
            _latencyMs = _latencyMs * 0.8 + elapsedMs * 0.2;
        }
    }

    /// <summary>Counts a failure; true when a warning is due (several failures in a row, at most one warning per interval).</summary>
    public bool Failed(long nowMs, TimeSpan warningInterval, out int failuresInRow)
    {
        lock (_gate)
        {
            _failuresInRow++;
            _lastFailureMs = nowMs;
            failuresInRow = _failuresInRow;
            if (_failuresInRow < WarnAfterFailures || (_lastWarningMs != long.MinValue && nowMs - _lastWarningMs < warningInterval.TotalMilliseconds))
            {
                return false;
            }

            _lastWarningMs = nowMs;
            return true;
        }
    }

    public const int WarnAfterFailures = 3;

    public void Dispose() => Http.Dispose();
}
