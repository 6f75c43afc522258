using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Protocol;
using ZkPow.Aggregator.Storage;
using ZkPow.Aggregator.Sync;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Prover;
using ZkPow.Devnet.Rollup;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sync;

/// <summary>
/// The devnet rollup (sequencer + rollup node) on a real anvil chain, and a rollup sync on a real store (a SQLite file or a
/// PostgreSQL database of its own, as <see cref="StoreKind"/> says) that
/// hands sequences to a recording sink, optionally backed by a real generator with mock provers over real gRPC.
/// </summary>
internal sealed class SyncHarness : IAsyncDisposable
{
    private readonly string _dir;
    private readonly List<(MockProver Prover, Task Run)> _provers = [];

    private SyncHarness(DevChain chain, string dir)
    {
        Chain = chain;
        _dir = dir;
    }

    public DevChain Chain { get; }
    public DevnetRollupLedger Ledger { get; } = new();
    public DevnetSequencer Sequencer { get; private set; } = null!;
    public DevnetRollupNode Node { get; private set; } = null!;
    public RollupNodeClient NodeClient { get; private set; } = null!;
    public EthRpcClient BaseRpc { get; private set; } = null!;
    public RollupChainClient ChainClient { get; private set; } = null!;
    public IAggregatorStore Store { get; private set; } = null!;
    public ProofGenerator? Generator { get; private set; }
    public ProverServer? Server { get; private set; }
    public RecordingSink Sink { get; private set; } = null!;
    public RollupSync Sync { get; private set; } = null!;
    public SyncMetrics Metrics { get; } = new();
    public List<FinalProofRecord> Finals { get; } = [];

    /// <summary>Our miner (account 1), in lower case.</summary>
    public string Miner => Chain.Miners[0].Address.ToLowerInvariant();

    public static ILoggerFactory Loggers { get; } = Environment.GetEnvironmentVariable("ZKPOW_TEST_LOG") == "1"
        ? LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Debug))
        : NullLoggerFactory.Instance;

    public static async Task<SyncHarness> StartAsync(DevChain chain, StoreKind store, SyncOptions? options = null, bool generator = false, int provers = 2)
    {
        var dir = Path.Combine(Path.GetTempPath(), "zkpow-sync-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var h = new SyncHarness(chain, dir);
        h.Sequencer = new DevnetSequencer(chain, new DevnetSequencerOptions { Seed = 11, MaxBatchesPerSequence = 3, BatchDataSize = 2048 }, h.Ledger,
            TimeProvider.System);
        h.Node = await DevnetRollupNode.StartAsync(h.Ledger, new DevnetRollupNodeOptions(), h.Sequencer.GetVerifiedBatchAsync);
        h.NodeClient = new RollupNodeClient(h.Node.Url, TimeSpan.FromSeconds(5));
        h.BaseRpc = new EthRpcClient(chain.RpcUrl, TimeSpan.FromSeconds(5));
        h.ChainClient = new RollupChainClient(h.BaseRpc, chain.Contracts.Rollup);
        h.Store = await TestStores.OpenAsync(await TestStores.NewOptionsAsync(store, Path.Combine(dir, "agg.db")));
        ISequenceSink? inner = null;
        if (generator)
        {
            h.Generator = new ProofGenerator(h.Store, new GeneratorOptions(), h.Miner, new GeneratorMetrics(), Loggers.CreateLogger<ProofGenerator>(),
                TimeProvider.System);
            h.Generator.FinalProofStored += record =>
            {
                lock (h.Finals)
                {
                    h.Finals.Add(record);
                }
            };
            await h.Generator.StartAsync(CancellationToken.None);
            h.Server = await ProverServer.StartAsync(new ProverServerOptions { Port = 0 }, new ProverSessionOptions(), h.Generator, Loggers,
                TimeProvider.System, CancellationToken.None);
            for (var i = 0; i < provers; i++)
            {
                var prover = new MockProver(new MockProverOptions
                {
                    Aggregator = h.Server.Address,
                    Name = $"mock-{i}",
                    ReconnectDelay = TimeSpan.FromMilliseconds(100),
                    BatchLatency = TimeSpan.FromMilliseconds(20),
                    AggregateLatency = TimeSpan.FromMilliseconds(20),
                    FinalLatency = TimeSpan.FromMilliseconds(20),
                }, TimeProvider.System);
                h._provers.Add((prover, prover.RunAsync()));
            }

            inner = new GeneratorSequenceSink(h.Generator);
        }

        h.Sink = new RecordingSink(inner);
        h.Sync = h.NewSync(options);
        return h;
    }

    public RollupSync NewSync(SyncOptions? options = null, IRollupNode? node = null, EthRpcClient? baseRpc = null)
    {
        options ??= new SyncOptions();
        options.RollupNodeUrl = Node.Url;
        if (options.Confirmations == new SyncOptions().Confirmations)
        {
            options.Confirmations = 0;
        }

        options.PollInterval = TimeSpan.FromMilliseconds(50);
        options.MaxBackoff = TimeSpan.FromMilliseconds(400);
        var rpc = baseRpc ?? BaseRpc;
        return new RollupSync(new RollupChainClient(rpc, Chain.Contracts.Rollup), rpc, node ?? NodeClient, Store, Sink, options, Miner, Metrics,
            Loggers.CreateLogger<RollupSync>(), TimeProvider.System);
    }

    /// <summary>Runs sync steps until one reports it is up to date; returns the steps.</summary>
    public async Task<List<SyncStep>> SyncUntilIdleAsync(RollupSync? sync = null)
    {
        sync ??= Sync;
        var steps = new List<SyncStep>();
        for (var i = 0; i < 200; i++)
        {
            var step = await sync.SyncOnceAsync(CancellationToken.None);
            steps.Add(step);
            if (step.Kind is SyncStepKind.UpToDate or SyncStepKind.Failed or SyncStepKind.Waiting)
            {
                return steps;
            }
        }

        throw new InvalidOperationException("the sync did not become idle");
    }

    public async Task WaitForFinalAsync(Func<FinalProofRecord, bool> match, int timeoutMs = 20_000)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            lock (Finals)
            {
                if (Finals.Any(match))
                {
                    return;
                }
            }

            if (watch.ElapsedMilliseconds > timeoutMs)
            {
                throw new TimeoutException($"no matching final proof after {timeoutMs} ms ({Finals.Count} stored)");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (prover, _) in _provers)
        {
            await prover.StopAsync();
            await prover.DisposeAsync();
        }

        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        if (Generator is not null)
        {
            await Generator.DisposeAsync();
        }

        await Store.DisposeAsync();
        await Node.DisposeAsync();
        NodeClient.Dispose();
        BaseRpc.Dispose();
        Metrics.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
