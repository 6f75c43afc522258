using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Sync;

/// <summary>How the rollup sync follows the base chain and where the rollup node is.</summary>
public sealed class SyncOptions
{
    private string _rollupNodeUrl = "http://127.0.0.1:8123";
    private bool _rollupNodeUrlSet;

    /// <summary>The first batch to prove: sequences that end before it are skipped (a new miner need not start at
    /// genesis). Example: <c>1200</c>; 0 = from genesis.</summary>
    public ulong StartBatch { get; set; }

    /// <summary>The base-chain block to start reading events at (the rollup contract's deployment block). Example: <c>19000000</c>.</summary>
    public ulong StartBlock { get; set; }

    /// <summary>How many blocks deep an event must be before it is trusted (blocks). Example: <c>12</c>.</summary>
    public ulong Confirmations { get; set; } = 12;

    /// <summary>The most blocks asked for in one <c>eth_getLogs</c> (blocks). Example: <c>2000</c>.</summary>
    public ulong MaxBlockRange { get; set; } = 2000;

    /// <summary>How long to wait for new blocks when the sync is up to date. Example: <c>2s</c>.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest wait between two sync steps after a failed one (the wait doubles from the poll interval up
    /// to it). Each call is already retried on its own (<c>Chain:CallBudget</c>), and a failed step keeps what it read,
    /// so this stays short. Example: <c>5s</c>.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The rollup node's HTTP JSON-RPC URL (<c>zkevm_</c> namespace). Example: <c>http://127.0.0.1:8123</c>.</summary>
    public string RollupNodeUrl
    {
        get => _rollupNodeUrl;
        set
        {
            _rollupNodeUrl = value;
            _rollupNodeUrlSet = true;
        }
    }

    /// <summary>More equivalent rollup-node URLs; used with <see cref="RollupNodeUrl"/> (the union, de-duplicated) for
    /// failover. A JSON array, or a comma-separated list. Example: <c>["http://node-a:8123", "http://node-b:8123"]</c>.</summary>
    public List<string> RollupNodeUrls { get; set; } = [];

    /// <summary>How long one request to the rollup node may take. Example: <c>10s</c>.</summary>
    public TimeSpan RollupNodeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary><see cref="RollupNodeUrl"/> and <see cref="RollupNodeUrls"/>, in that order, without duplicates or blanks
    /// (the default <see cref="RollupNodeUrl"/> only when it was set or the list is empty).</summary>
    public IReadOnlyList<string> AllRollupNodeUrls()
    {
        IEnumerable<string> urls = RollupNodeUrls;
        if (_rollupNodeUrlSet || RollupNodeUrls.Count == 0)
        {
            urls = urls.Prepend(RollupNodeUrl);
        }

        return [.. RpcErrors.ParseUrls(urls, "Sync:RollupNodeUrls").Select(u => u.OriginalString)];
    }

    /// <summary>The retry settings for calls to the rollup node: its own request timeout, the base chain's budget and delays.</summary>
    public RpcRetryOptions RetryOptions(ChainOptions chain) => chain.RetryOptions() with { RequestTimeout = RollupNodeTimeout };

    public void Validate()
    {
        if (!string.IsNullOrWhiteSpace(RollupNodeUrl) && !ChainOptions.IsHttpUrl(RollupNodeUrl))
        {
            throw new OptionsException("Sync:RollupNodeUrl", $"'{ChainOptions.Shown(RollupNodeUrl)}' is not an http(s) URL");
        }

        if (RollupNodeUrls.FirstOrDefault(u => !ChainOptions.IsHttpUrl(u)) is { } bad)
        {
            throw new OptionsException("Sync:RollupNodeUrls", $"'{ChainOptions.Shown(bad)}' is not an http(s) URL");
        }

        if (string.IsNullOrWhiteSpace(RollupNodeUrl) && RollupNodeUrls.Count == 0)
        {
            throw new OptionsException("Sync:RollupNodeUrl", "no rollup-node URL: set Sync:RollupNodeUrl or Sync:RollupNodeUrls");
        }

        if (Confirmations > 1000)
        {
            throw new OptionsException("Sync:Confirmations", "must be at most 1000 blocks");
        }

        if (MaxBlockRange is < 1 or > 100_000)
        {
            throw new OptionsException("Sync:MaxBlockRange", "must be between 1 and 100000 blocks");
        }

        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromMinutes(10))
        {
            throw new OptionsException("Sync:PollInterval", "must be between 10ms and 10m");
        }

        if (MaxBackoff < TimeSpan.FromMilliseconds(10) || MaxBackoff > TimeSpan.FromHours(1))
        {
            throw new OptionsException("Sync:MaxBackoff", "must be between 10ms and 1h (a value below the poll interval means the poll interval)");
        }

        if (RollupNodeTimeout < TimeSpan.FromMilliseconds(100) || RollupNodeTimeout > TimeSpan.FromMinutes(5))
        {
            throw new OptionsException("Sync:RollupNodeTimeout", "must be between 100ms and 5m");
        }
    }
}
