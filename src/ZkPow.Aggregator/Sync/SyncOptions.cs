namespace ZkPow.Aggregator.Sync;

/// <summary>How the rollup sync follows the base chain and where the rollup node is.</summary>
public sealed class SyncOptions
{
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

    /// <summary>The longest wait between retries after an RPC failure (backoff doubles up to it). Example: <c>30s</c>.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The rollup node's HTTP JSON-RPC URL (<c>zkevm_</c> namespace). Example: <c>http://127.0.0.1:8123</c>.</summary>
    public string RollupNodeUrl { get; set; } = "http://127.0.0.1:8123";

    /// <summary>More rollup node URLs beside <see cref="RollupNodeUrl"/>. Example:
    /// <c>["http://127.0.0.1:8123", "http://127.0.0.1:8124"]</c>; empty = <see cref="RollupNodeUrl"/> only.</summary>
    public string[] RollupNodeUrls { get; set; } = [];

    /// <summary>How long one request to the rollup node may take. Example: <c>10s</c>.</summary>
    public TimeSpan RollupNodeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public void Validate()
    {
        if (!Uri.TryCreate(RollupNodeUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new OptionsException("Sync:RollupNodeUrl", $"'{RollupNodeUrl}' is not an http(s) URL");
        }

        for (var i = 0; i < RollupNodeUrls.Length; i++)
        {
            if (!Uri.TryCreate(RollupNodeUrls[i], UriKind.Absolute, out var more) || (more.Scheme != Uri.UriSchemeHttp && more.Scheme != Uri.UriSchemeHttps))
            {
                throw new OptionsException($"Sync:RollupNodeUrls:{i}", $"'{RollupNodeUrls[i]}' is not an http(s) URL");
            }
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

        if (MaxBackoff < PollInterval || MaxBackoff > TimeSpan.FromHours(1))
        {
            throw new OptionsException("Sync:MaxBackoff", "must be between the poll interval and 1h");
        }

        if (RollupNodeTimeout < TimeSpan.FromMilliseconds(100) || RollupNodeTimeout > TimeSpan.FromMinutes(5))
        {
            throw new OptionsException("Sync:RollupNodeTimeout", "must be between 100ms and 5m");
        }
    }
}
