using System.Diagnostics;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Storage;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary>A tx manager for one dev account over a fresh store (a SQLite file with durable settings, or a PostgreSQL
/// database of its own), against a node URL.</summary>
internal sealed class TxHarness : IAsyncDisposable
{
    private readonly TxKey _key;
    private readonly TxManagerOptions _options;

    private TxHarness(string directory, IAggregatorStore store, EthRpcClient rpc, TxKey key, TxManagerOptions options)
    {
        Directory = directory;
        Store = store;
        Rpc = rpc;
        _key = key;
        _options = options;
        Manager = NewManager();
    }

    public string Directory { get; }

    /// <summary>The SQLite file (a SQLite store only).</summary>
    public string DatabasePath => Path.Combine(Directory, "tx.db");

    public IAggregatorStore Store { get; }

    public EthRpcClient Rpc { get; }

    public TxManager Manager { get; private set; }

    /// <summary>What every manager of this harness logged (a restart keeps the same log).</summary>
    public TxLog Log { get; } = new();

    public static TxManagerOptions FastOptions(int confirmations = 1) => new()
    {
        Confirmations = confirmations,
        PollInterval = TimeSpan.FromMilliseconds(50),
        StuckAfter = TimeSpan.FromMilliseconds(400),
    };

    public static async Task<TxHarness> StartAsync(string rpcUrl, DevAccount account, TxManagerOptions? options = null, string? directory = null,
        bool start = true, EthRpcClient? client = null, StoreKind store = StoreKind.Sqlite, Func<IAggregatorStore, IAggregatorStore>? wrap = null)
    {
        directory ??= Path.Combine(Path.GetTempPath(), $"zkpow-tx-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        var opened = await TestStores.OpenAsync(await TestStores.NewOptionsAsync(store, Path.Combine(directory, "tx.db")));
        var rpc = client ?? new EthRpcClient(rpcUrl, TimeSpan.FromSeconds(2));
        if (wrap is not null)
        {
            opened = wrap(opened);
        }

        var harness = new TxHarness(directory, opened, rpc, TxKey.FromDevKey(account.PrivateKey), options ?? FastOptions());
        if (start)
        {
            await harness.Manager.StartAsync(default);
        }

        return harness;
    }

    /// <summary>Stops the manager (its loop ends; the store stays open) and puts a fresh one on the same store, as a restarted
    /// process would; <paramref name="configure"/> runs before it starts. Without <paramref name="runLoop"/> the new manager
    /// reconciles and loads but polls nothing.</summary>
    public async Task<TxManager> RestartAsync(bool runLoop = true, Action<TxManager>? configure = null)
    {
        await Manager.DisposeAsync();
        Manager = NewManager();
        configure?.Invoke(Manager);
        await Manager.StartAsync(runLoop, default);
        return Manager;
    }

    private TxManager NewManager() => new(Store, Rpc, _key, _options, Log, TimeProvider.System);

    public static TxRequest Settle(string key, DevAccount account, string rollup) =>
        new(key, "settle", rollup, RollupCalls.Settle(account.Address));

    public static TxRequest Transfer(string key, string to, long wei) => new(key, "transfer", to, []) { Value = wei };

    public async Task<TxRecord> RecordAsync(TxHandle handle) => (await Store.GetTxAsync(handle.Id, default))!;

    /// <summary>Polls <paramref name="condition"/> every 25 ms until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"waited {timeout} for {what}");
            }

            await Task.Delay(25);
        }
    }

    public Task WaitForStateAsync(TxHandle handle, TxState state, TimeSpan? timeout = null) =>
        WaitUntilAsync(async () => (await RecordAsync(handle)).State == state, timeout ?? TimeSpan.FromSeconds(10), $"{handle} to be {state}");

    /// <summary>For a failed wait: each of the given keys' state, nonce and hash, the account's nonces at the node, and the
    /// manager's last log lines.</summary>
    public async Task<string> DescribeAsync(IEnumerable<string> keys, string address)
    {
        var text = new System.Text.StringBuilder();
        try
        {
            var latest = await Rpc.CallAsync("eth_getTransactionCount", [address, "latest"], default);
            var pending = await Rpc.CallAsync("eth_getTransactionCount", [address, "pending"], default);
            text.Append($"node: latest nonce {latest}, pending nonce {pending}\n");
        }
        catch (Exception e) when (e is EthRpcException or ChainUnavailableException or HttpRequestException or TaskCanceledException)
        {
            text.Append($"node: {e.Message}\n");
        }

        foreach (var key in keys)
        {
            var r = await Store.GetTxAsync(key, default);
            text.Append(r is null ? $"{key}: none\n" : $"{key}: {r.State} nonce {r.Nonce} hash {r.TxHash} block {r.BlockNumber} {r.Error}\n");
        }

        return text.Append("log:\n").Append(Log.Tail()).ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await Manager.DisposeAsync();
        await Store.DisposeAsync();
        Rpc.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
