namespace ZkPow.Aggregator.Chain;

/// <summary>One JSON-RPC endpoint of a <see cref="JsonRpcTransport"/>: its HTTP client and how healthy it has been
/// lately (failures in a row, a smoothed latency), from which the transport picks where to send a call.</summary>
internal sealed class RpcEndpoint : IDisposable
{
    /// <summary>Failures older than this no longer count against an endpoint (it gets another chance).</summary>
    private static readonly TimeSpan FailureMemory = TimeSpan.FromSeconds(60);

    private readonly Lock _gate = new();
    private int _failuresInRow;
    private long _lastFailureMs = long.MinValue;
    private double _latencyMs = 50;
    private long _lastWarningMs = long.MinValue;

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

    /// <summary>Lower is better: recent failures in a row weigh a second each, then the smoothed latency.</summary>
    public double Score(long nowMs)
    {
        lock (_gate)
        {
            var failures = nowMs - _lastFailureMs > FailureMemory.TotalMilliseconds ? 0 : _failuresInRow;
            return failures * 1000.0 + _latencyMs;
        }
    }

    public void Succeeded(double latencyMs, out bool recovered)
    {
        lock (_gate)
        {
            recovered = _failuresInRow >= WarnAfterFailures && _lastWarningMs != long.MinValue;
            _failuresInRow = 0;
            _lastWarningMs = recovered ? long.MinValue : _lastWarningMs;
            _latencyMs = _latencyMs * 0.8 + latencyMs * 0.2;
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
