using System.Diagnostics;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Storage;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Proof;
using ZkPow.Devnet.Prover;
using ZkPow.Devnet.Rollup;
using ZkPow.Devnet.Tests.Storage;
using ZkPow.Tests;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary>
/// A real anvil with the project's contracts, mined by a pump (a block every <see cref="BlockInterval"/>), devnet
/// sequences sent to the rollup and served by a devnet rollup node, and in-process aggregators (one per miner, each
/// the product's composition on its own store, a SQLite file or a PostgreSQL database as <see cref="StoreKind"/> says,
/// with mock provers over real gRPC). The aggregators' rollup sync
/// follows no sequence (<see cref="SyncNothing"/>): a test hands each sequence to the aggregators it chooses.
/// </summary>
internal sealed class SenderHarness : IAsyncDisposable
{
    public static readonly TimeSpan BlockInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>The sync's <c>StartBlock</c>: a block the test chain never reaches, so the sync reads no event.</summary>
    private const ulong SyncNothing = ulong.MaxValue / 2;

    private readonly DevnetSequenceBuilder _builder = new(new Random(11), "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", 1001, 6);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<MockProver> _provers = [];
    private readonly List<MinerAggregator> _aggregators = [];
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"zkpow-sender-{Guid.NewGuid():N}");
    private readonly Dictionary<string, StoreOptions> _stores = [];
    private readonly EthRpcClient _rpc;
    private Task _pump = Task.CompletedTask;
    private DevnetSequence? _last;
    private volatile bool _miningPaused;

    /// <summary>Held by the pump while it mines a block.</summary>
    private readonly SemaphoreSlim _mining = new(1, 1);

    private SenderHarness(DevChain chain, DevnetRollupLedger ledger, DevnetRollupNode node, StoreKind storeKind)
    {
        Chain = chain;
        StoreKind = storeKind;
        Ledger = ledger;
        RollupNode = node;
        _rpc = new EthRpcClient(chain.RpcUrl, TimeSpan.FromSeconds(5));
        Reader = new RollupChainClient(_rpc, chain.Contracts.Rollup);
        Directory.CreateDirectory(_dir);
    }

    public DevChain Chain { get; }

    /// <summary>The kind of store every aggregator of this harness runs on.</summary>
    public StoreKind StoreKind { get; }

    /// <summary>While true the pump mines nothing (a test that reorgs the chain holds it still). Set false to go on;
    /// to pause, use <see cref="PauseMiningAsync"/>, which also waits for a block being mined.</summary>
    public bool MiningPaused
    {
        get => _miningPaused;
        set => _miningPaused = value;
    }

    /// <summary>Stops the pump, and returns once no block is being mined: the head read next stays the head.</summary>
    public async Task PauseMiningAsync()
    {
        await _mining.WaitAsync();
        try
        {
            _miningPaused = true;
        }
        finally
        {
            _mining.Release();
        }
    }

    public IRollupChain Reader { get; }
    /// <summary>The rollup's batches as the rollup node reports them (the roots the aggregators' senders read).</summary>
    public DevnetRollupLedger Ledger { get; }

    public DevnetRollupNode RollupNode { get; }
    public List<DevnetSequence> Sequences { get; } = [];

    /// <summary>With <c>ZKPOW_TEST_LOG=1</c> the aggregators log everything to the console; otherwise each store's recent
    /// lines are kept for <see cref="RecentLogsOf"/>.</summary>
    public static bool LogsToConsole { get; } = Environment.GetEnvironmentVariable("ZKPOW_TEST_LOG") == "1";

    public static ILoggerFactory Loggers { get; } = LogsToConsole
        ? LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Debug))
        : NullLoggerFactory.Instance;

    private readonly Dictionary<string, RecentLogs> _logs = [];

    /// <summary>The last lines the aggregators on the store <paramref name="storeName"/> logged (Information and up), for a
    /// failure message (with <c>ZKPOW_TEST_LOG=1</c> everything goes to the console instead).</summary>
    public string RecentLogsOf(string storeName, int lines = 120) =>
        _logs.TryGetValue(storeName, out var logs) ? logs.Tail(lines) : "(nothing logged)";

    public static async Task<SenderHarness> StartAsync(StoreKind store, byte t1 = 5, byte t2 = 10)
    {
        var chain = await DevChain.StartAsync(new DevChainOptions { ManualMining = true, T1 = t1, T2 = t2, Miners = 3, ExtraAccounts = 1 });
        var ledger = new DevnetRollupLedger();
        DevnetRollupNode node;
        try
        {
            node = await DevnetRollupNode.StartAsync(ledger, new DevnetRollupNodeOptions());
        }
        catch
        {
            await chain.DisposeAsync();
            throw;
        }

        var harness = new SenderHarness(chain, ledger, node, store);
        harness._pump = harness.PumpAsync(harness._stop.Token);
        return harness;
    }

    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(BlockInterval, cancellationToken);
                await _mining.WaitAsync(cancellationToken);
                try
                {
                    if (!MiningPaused)
                    {
                        await Chain.MineAsync(1, cancellationToken);
                    }
                }
                finally
                {
                    _mining.Release();
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is ChainUnavailableException or EthRpcException)
            {
                // anvil is going away.
            }
        }
    }

    private string StorePath(string name) => Path.Combine(_dir, name + ".db");

    /// <summary>The options of the store named <paramref name="name"/>: the same store at every call (a new SQLite file or
    /// PostgreSQL database at the first).</summary>
    public async Task<StoreOptions> StoreOptionsAsync(string name)
    {
        if (!_stores.TryGetValue(name, out var options))
        {
            options = await TestStores.NewOptionsAsync(StoreKind, StorePath(name));
            _stores[name] = options;
        }

        return options;
    }

    /// <summary>Opens the store named <paramref name="name"/> (while no aggregator runs on it).</summary>
    public async Task<IAggregatorStore> OpenStoreAsync(string name) => await TestStores.OpenAsync(await StoreOptionsAsync(name));

    /// <summary>The store named <paramref name="name"/> is lost: its SQLite files are deleted, or its PostgreSQL database is
    /// forgotten (the next start gets an empty one).</summary>
    public void LoseStore(string name)
    {
        if (StoreKind == StoreKind.Sqlite)
        {
            foreach (var file in new[] { "", "-wal", "-shm" }.Select(suffix => StorePath(name) + suffix).Where(File.Exists))
            {
                File.Delete(file);
            }
        }

        _stores.Remove(name);
    }

    /// <summary>Runs <paramref name="sql"/> on the store named <paramref name="name"/>, around the aggregator (which is
    /// stopped); asserts it changed a row.</summary>
    public async Task ExecuteAsync(string name, string sql) =>
        Assert.True(await TestStores.ExecuteAsync(await StoreOptionsAsync(name), sql) >= 1, $"no row changed by: {sql}");

    /// <summary>Starts an aggregator for <paramref name="miner"/> on the store <paramref name="storeName"/> (resumes it if it exists);
    /// its tx manager confirms at <paramref name="confirmations"/> (a tx at a smaller depth follows a reorg); it reaches
    /// the chain at <paramref name="rpcUrl"/> (a fault proxy) if given.</summary>
    public async Task<MinerAggregator> StartMinerAsync(DevAccount miner, string storeName, Action<SenderOptions>? configure = null, int confirmations = 1,
        string? rpcUrl = null)
    {
        var options = new AggregatorOptions
        {
            Store = await StoreOptionsAsync(storeName),
            Chain = { RpcUrl = rpcUrl ?? Chain.RpcUrl, RollupAddress = Chain.Contracts.Rollup, RequestTimeout = TimeSpan.FromSeconds(5) },
            ExpectedChainId = Chain.ChainId,
            Key = { DevPrivateKey = miner.PrivateKey },
            TxManager = { Confirmations = confirmations, PollInterval = TimeSpan.FromMilliseconds(50), StuckAfter = TimeSpan.FromSeconds(3) },
            ProverServer = { Port = 0 },
            Provers = { ForkId = Chain.Options.ForkId },
            Http = { Port = 0 },
            Generator = { ReconnectGrace = TimeSpan.FromMilliseconds(300) },
            Sync = { RollupNodeUrl = RollupNode.Url, StartBlock = SyncNothing },
            Sender = { PollInterval = TimeSpan.FromMilliseconds(40), ResendInterval = TimeSpan.FromMilliseconds(200) },
            // PostgreSQL: one replica per store here, so a long lease; a stall of the loaded test machine must not make it
            // step down mid-test (a stopped aggregator releases its lease, so a restart takes it at once).
            Leader = { RenewInterval = TimeSpan.FromSeconds(1), LeaseTime = TimeSpan.FromSeconds(12) },
        };
        configure?.Invoke(options.Sender);
        var loggers = LogsToConsole ? Loggers : (_logs.TryGetValue(storeName, out var logs) ? logs : _logs[storeName] = new RecentLogs(capacity: 600)).Factory;

        var aggregator = await MinerAggregator.StartAsync(options, loggers, TimeProvider.System, CancellationToken.None);
        _aggregators.Add(aggregator);
        return aggregator;
    }

    public async Task StopMinerAsync(MinerAggregator aggregator)
    {
        _aggregators.Remove(aggregator);
        await aggregator.DisposeAsync();
    }

    public MockProver AddProver(MinerAggregator aggregator, string name, MockProverMisbehaviour misbehaviour = MockProverMisbehaviour.None)
    {
        var prover = new MockProver(new MockProverOptions
        {
            Aggregator = aggregator.ProverAddress,
            Name = name,
            ReconnectDelay = TimeSpan.FromMilliseconds(100),
            Misbehaviour = misbehaviour,
        }, TimeProvider.System);
        _provers.Add(prover);
        _ = prover.RunAsync();
        return prover;
    }

    public async Task StopProverAsync(MockProver prover)
    {
        _provers.Remove(prover);
        await prover.StopAsync();
        await prover.DisposeAsync();
    }

    /// <summary>
    /// The miner goes down right after its hash is on chain: waits (20 s unless told) for its commitment to
    /// <paramref name="final"/>, then stops its aggregator and its prover. Returns the block the commitment's round started at.
    /// </summary>
    public async Task<ulong> StopAfterCommitmentAsync(MinerAggregator aggregator, MockProver prover, ulong final, TimeSpan? timeout = null)
    {
        var miner = aggregator.Miner;
        await WaitUntilAsync(async () => (await Reader.GetCommitmentAsync(final, miner, CancellationToken.None)).Exists,
            timeout ?? TimeSpan.FromSeconds(20), $"the commitment of {miner} to sequence {final}");
        await StopMinerAsync(aggregator);
        await StopProverAsync(prover);
        return (await Reader.GetCommitmentAsync(final, miner, CancellationToken.None)).RoundStart;
    }

    /// <summary>Sequences the next devnet sequence on chain (it is mined by the pump) and hands it to every given aggregator.</summary>
    public async Task<DevnetSequence> SequenceAsync(int batches, params MinerAggregator[] aggregators)
    {
        var sequence = _last is null ? _builder.FromGenesis(batches) : _builder.After(_last, batches);
        _last = sequence;
        Ledger.Record(sequence, null);
        var calls = sequence.Batches.Select(b => new DevBatch(b.Transactions, b.GlobalExitRoot, b.Timestamp)).ToList();
        var receipt = await Chain.SendAsync(Chain.Admin, Chain.Contracts.Rollup, ContractCalls.SequenceBatches(calls, sequence.Coinbase));
        Assert.True(receipt.Succeeded);
        Sequences.Add(sequence);
        foreach (var aggregator in aggregators)
        {
            await AddToAsync(aggregator, sequence);
        }

        return sequence;
    }

    public static Task AddToAsync(MinerAggregator aggregator, DevnetSequence sequence) =>
        aggregator.Generator.AddSequenceAsync(new SequenceInput(sequence.InitNumBatch, sequence.FinalNewBatch,
            [.. sequence.Batches.Select(b => new BatchInput(b.Number, b.ToInputProver(1001, 6).ToByteArray()))]), CancellationToken.None);

    /// <summary>The rollup's storage slot of the genesis state root (<c>batchNumToStateRoot[0]</c>), found by its value, and
    /// that value: a test that changes the slot makes a reveal of the first sequence fail (a zero root: refused with
    /// <c>OldStateRootDoesNotExist</c>; another root: slashed as wrong), and puts the value back.</summary>
    public async Task<(string Slot, string Genesis)> GenesisStateRootSlotAsync()
    {
        var rollup = Chain.Contracts.Rollup;
        var genesis = HexData.Encode(await Chain.CallAsync(rollup, RollupCalls.BatchNumToStateRoot(0)));
        for (var index = 0; index < 64; index++)
        {
            var key = new byte[64];
            key[63] = (byte)index;
            var candidate = HexData.Encode(Abi.Keccak(key));
            if ((await Chain.Rpc.CallAsync("eth_getStorageAt", [rollup, candidate, "latest"], default)).GetString() == genesis)
            {
                return (candidate, genesis);
            }
        }

        throw new InvalidOperationException("the genesis state root's storage slot was not found");
    }

    public async Task<IReadOnlyList<RollupEvent>> EventsAsync()
    {
        var head = await Reader.GetBlockNumberAsync(CancellationToken.None);
        return await Reader.GetEventsAsync(0, head, CancellationToken.None);
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"waited {timeout} for {what}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Holds the chain still until every one of <paramref name="miners"/> has broadcast its hash for <paramref name="final"/>
    /// (or has it on chain already), then mines on: hashes broadcast together land in one block. A test whose scenario
    /// needs several miners in one round uses it: on a starved machine a later hash could miss the round's hash window.
    /// </summary>
    public async Task HashesInOneBlockAsync(ulong final, params MinerAggregator[] miners)
    {
        await PauseMiningAsync();
        try
        {
            var key = TxRequest.KeyFor("submitProofHash", final, 0);
            await WaitUntilAsync(async () =>
            {
                foreach (var miner in miners)
                {
                    if (await miner.Tx.GetAsync(key, CancellationToken.None) is not { State: TxState.Sent or TxState.Mined or TxState.Confirmed })
                    {
                        return false;
                    }
                }

                return true;
            }, TimeSpan.FromSeconds(30), $"the hash transactions for sequence {final} of {miners.Length} miners broadcast");
        }
        finally
        {
            _miningPaused = false;
        }
    }

    public Task WaitForVerifiedAsync(ulong batch, TimeSpan timeout) =>
        WaitUntilAsync(async () => await Reader.GetLastVerifiedBatchAsync(CancellationToken.None) >= batch, timeout, $"batch {batch} verified");

    public static bool Same(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    public async ValueTask DisposeAsync()
    {
        foreach (var prover in _provers.ToList())
        {
            await prover.StopAsync();
            await prover.DisposeAsync();
        }

        foreach (var aggregator in _aggregators.ToList())
        {
            await aggregator.DisposeAsync();
        }

        await _stop.CancelAsync();
        await _pump;
        _rpc.Dispose();
        await RollupNode.DisposeAsync();
        await Chain.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
