using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Storage;
using ZkPow.Devnet.Chain;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary>A tx manager for one dev account over a fresh SQLite file (durable settings), against a node URL.</summary>
internal sealed class TxHarness : IAsyncDisposable
{
    private TxHarness(string directory, SqliteStore store, EthRpcClient rpc, TxManager manager)
    {
        Directory = directory;
        Store = store;
        Rpc = rpc;
        Manager = manager;
    }

    public string Directory { get; }

    public string DatabasePath => Path.Combine(Directory, "tx.db");

    public SqliteStore Store { get; }

    public EthRpcClient Rpc { get; }

    public TxManager Manager { get; private set; }

    public static TxManagerOptions FastOptions(int confirmations = 1) => new()
    {
        Confirmations = confirmations,
        PollInterval = TimeSpan.FromMilliseconds(50),
        StuckAfter = TimeSpan.FromMilliseconds(400),
    };

    public static async Task<TxHarness> StartAsync(string rpcUrl, DevAccount account, TxManagerOptions? options = null, string? directory = null,
        bool start = true, EthRpcClient? client = null)
    {
        directory ??= Path.Combine(Path.GetTempPath(), $"zkpow-tx-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        var store = await SqliteStore.OpenAsync(new StoreOptions { SqlitePath = Path.Combine(directory, "tx.db") }, TimeProvider.System, default);
        var rpc = client ?? new EthRpcClient(rpcUrl, TimeSpan.FromSeconds(2));
        var manager = new TxManager(store, rpc, TxKey.FromDevKey(account.PrivateKey), options ?? FastOptions(), NullLogger<TxManager>.Instance,
            TimeProvider.System);
        var harness = new TxHarness(directory, store, rpc, manager);
        if (start)
        {
            await manager.StartAsync(default);
        }

        return harness;
    }

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
