namespace ZkPow.Aggregator.Chain;

/// <summary>Where the base chain and the rollup contract are, and how calls to its node are retried.</summary>
public sealed class ChainOptions
{
    private string _rpcUrl = "http://127.0.0.1:8545";
    private bool _rpcUrlSet;

    /// <summary>The base-chain node's HTTP JSON-RPC URL. Example: <c>http://127.0.0.1:8545</c> (the default, unless
    /// only <see cref="RpcUrls"/> is set).</summary>
    public string RpcUrl
    {
        get => _rpcUrl;
        set
        {
            _rpcUrl = value;
            _rpcUrlSet = true;
        }
    }

    /// <summary>More equivalent JSON-RPC URLs of the same chain (other providers); used with <see cref="RpcUrl"/> (the
    /// union, de-duplicated) for failover. In a config file a JSON array, on the command line or in the environment a
    /// comma-separated list. Example: <c>["https://eth.provider-a.example/KEY", "https://rpc.provider-b.example"]</c>.</summary>
    public List<string> RpcUrls { get; set; } = [];

    /// <summary>The rollup contract's address. Example: <c>0x5FC8d32690cc91D4c39d9d3abcBD16989F875707</c>.</summary>
    public string RollupAddress { get; set; } = string.Empty;

    /// <summary>How long one JSON-RPC request may take. Example: <c>10s</c>.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one call may take with all its retries (on all endpoints) before it fails as unavailable.
    /// Between 1s and 10m. Example: <c>30s</c>.</summary>
    public TimeSpan CallBudget { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The first wait before retrying a failed call on the same endpoint; doubled per retry with jitter.
    /// Between 0 and 10s. Example: <c>100ms</c>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between two retries of one call. Between the base delay and 1m. Example: <c>2s</c>.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>With more than one JSON-RPC URL: the longest wait for an answer before the same request is also sent to
    /// the next healthiest endpoint (the first definite answer wins, the other request is cancelled). The wait itself
    /// is learned: twice the endpoint's recent p95 latency, at least <see cref="HedgeMin"/>, at most this. 0 = no
    /// hedging. Between 0 and 1m. Example: <c>1s</c>.</summary>
    public TimeSpan HedgeAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The shortest hedge wait, however fast the endpoints have been. Between 10ms and 1m. Example: <c>150ms</c>.</summary>
    public TimeSpan HedgeMin { get; set; } = TimeSpan.FromMilliseconds(150);

    /// <summary><see cref="RpcUrl"/> and <see cref="RpcUrls"/>, in that order, without duplicates or blanks (the
    /// default <see cref="RpcUrl"/> only when it was set or the list is empty).</summary>
    public IReadOnlyList<string> AllRpcUrls()
    {
        IEnumerable<string> urls = RpcUrls;
        if (_rpcUrlSet || RpcUrls.Count == 0)
        {
            urls = urls.Prepend(RpcUrl);
        }

        return [.. RpcErrors.ParseUrls(urls, "Chain:RpcUrls").Select(u => u.OriginalString)];
    }

    /// <summary>The retry settings for calls to the base chain.</summary>
    public RpcRetryOptions RetryOptions() => new()
    {
        RequestTimeout = RequestTimeout,
        CallBudget = CallBudget,
        RetryBaseDelay = RetryBaseDelay,
        RetryMaxDelay = RetryMaxDelay,
        HedgeAfter = HedgeAfter,
        HedgeMin = HedgeMin,
    };

    public void Validate()
    {
        if (!string.IsNullOrWhiteSpace(RpcUrl) && !IsHttpUrl(RpcUrl))
        {
            throw new OptionsException("Chain:RpcUrl", $"'{Shown(RpcUrl)}' is not an http(s) URL");
        }

        if (RpcUrls.FirstOrDefault(u => !IsHttpUrl(u)) is { } bad)
        {
            throw new OptionsException("Chain:RpcUrls", $"'{Shown(bad)}' is not an http(s) URL");
        }

        if (string.IsNullOrWhiteSpace(RpcUrl) && RpcUrls.Count == 0)
        {
            throw new OptionsException("Chain:RpcUrl", "no base-chain JSON-RPC URL: set Chain:RpcUrl or Chain:RpcUrls");
        }

        if (!HexData.IsAddress(RollupAddress))
        {
            throw new OptionsException("Chain:RollupAddress", $"'{RollupAddress}' is not a 0x-hex address");
        }

        if (RequestTimeout < TimeSpan.FromMilliseconds(100) || RequestTimeout > TimeSpan.FromMinutes(5))
        {
            throw new OptionsException("Chain:RequestTimeout", "must be between 100ms and 5m");
        }

        if (CallBudget < TimeSpan.FromSeconds(1) || CallBudget > TimeSpan.FromMinutes(10))
        {
            throw new OptionsException("Chain:CallBudget", "must be between 1s and 10m");
        }

        if (RetryBaseDelay < TimeSpan.Zero || RetryBaseDelay > TimeSpan.FromSeconds(10))
        {
            throw new OptionsException("Chain:RetryBaseDelay", "must be between 0 and 10s");
        }

        if (RetryMaxDelay < RetryBaseDelay || RetryMaxDelay > TimeSpan.FromMinutes(1))
        {
            throw new OptionsException("Chain:RetryMaxDelay", "must be between Chain:RetryBaseDelay and 1m");
        }

        if (HedgeAfter < TimeSpan.Zero || HedgeAfter > TimeSpan.FromMinutes(1))
        {
            throw new OptionsException("Chain:HedgeAfter", "must be between 0 (no hedging) and 1m");
        }

        if (HedgeMin < TimeSpan.FromMilliseconds(10) || HedgeMin > TimeSpan.FromMinutes(1))
        {
            throw new OptionsException("Chain:HedgeMin", "must be between 10ms and 1m");
        }
    }

    internal static bool IsHttpUrl(string url) =>
        Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    /// <summary>A URL as it may be shown: scheme://host:port, never its path or query (API keys live there).</summary>
    internal static string Shown(string url) =>
        Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) ? RpcErrors.Redact(uri) + (uri.PathAndQuery.Length > 1 ? "/…" : string.Empty) : url;
}
