using System.Diagnostics;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Protocol;
using ZkPow.Aggregator.Storage;
using ZkPow.Devnet.Proof;
using ZkPow.Devnet.Prover;

namespace ZkPow.Aggregator.Tests.Generator;

/// <summary>
/// A proof generator on a real SQLite file (or the store of a <see cref="Storage.StoreTarget"/>: a PostgreSQL database), serving real gRPC on loopback, with in-process mock provers that dial it.
/// Sequences are real devnet sequences, so the mock provers' proofs chain and the final proofs verify.
/// </summary>
internal sealed class GeneratorHarness : IAsyncDisposable
{
    public const string Miner = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    private readonly List<(MockProver Prover, Task Run)> _provers = [];
    private readonly DevnetSequenceBuilder _builder = new(new Random(7), "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", 1001, 6);
    private DevnetSequence? _last;

    private GeneratorHarness(TempDir dir, IAggregatorStore store, ProofGenerator generator, ProverServer server)
    {
        Dir = dir;
        Store = store;
        Generator = generator;
        Server = server;
        generator.FinalProofStored += record =>
        {
            lock (Finals)
            {
                Finals.Add(record);
            }
        };
    }

    public TempDir Dir { get; }
    public IAggregatorStore Store { get; }
    public ProofGenerator Generator { get; }
    public ProverServer Server { get; }
    public List<FinalProofRecord> Finals { get; } = [];
    public Dictionary<ulong, DevnetSequence> Sequences { get; } = [];

    public static async Task<GeneratorHarness> StartAsync(GeneratorOptions? options = null, ProverSessionOptions? sessions = null,
        TempDir? dir = null, IComparer<ProofTask>? priority = null, int port = 0, ILoggerFactory? loggers = null, TimeSpan listenAfter = default,
        Func<IAggregatorStore, IGeneratorStore>? wrapStore = null, Storage.StoreTarget? target = null)
    {
        loggers ??= Environment.GetEnvironmentVariable("ZKPOW_TEST_LOG") == "1"
            ? LoggerFactory.Create(b => b.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            }).SetMinimumLevel(LogLevel.Debug))
            : NullLoggerFactory.Instance;
        dir ??= new TempDir();
        var store = target is null
            ? await SqliteStore.OpenAsync(new StoreOptions { SqlitePath = dir.File("gen.db") }, TimeProvider.System, CancellationToken.None)
            : await target.OpenAsync();
        var generator = new ProofGenerator(wrapStore?.Invoke(store) ?? store, options ?? new GeneratorOptions(), Miner, new GeneratorMetrics(),
            loggers.CreateLogger<ProofGenerator>(), TimeProvider.System, priority);
        await generator.StartAsync(CancellationToken.None);
        if (listenAfter > TimeSpan.Zero)
        {
            // Start-up work (RPC calls in production) between the generator's start and the prover port opening.
            await Task.Delay(listenAfter);
        }

        var server = await ProverServer.StartAsync(new ProverServerOptions { Port = port }, sessions ?? new ProverSessionOptions(), generator,
            loggers, TimeProvider.System, CancellationToken.None);
        return new GeneratorHarness(dir, store, generator, server);
    }

    public MockProver AddProver(string name, Action<MockProverOptions>? configure = null)
    {
        var options = new MockProverOptions { Aggregator = Server.Address, Name = name, ReconnectDelay = TimeSpan.FromMilliseconds(100) };
        configure?.Invoke(options);
        var prover = new MockProver(options, TimeProvider.System);
        _provers.Add((prover, prover.RunAsync()));
        return prover;
    }

    public async Task StopProverAsync(MockProver prover)
    {
        await prover.StopAsync();
        await prover.DisposeAsync();
        _provers.RemoveAll(p => p.Prover == prover);
    }

    /// <summary>Builds the next devnet sequence of <paramref name="batches"/> batches and hands it to the generator.</summary>
    public async Task<DevnetSequence> AddSequenceAsync(int batches)
    {
        var sequence = _last is null ? _builder.FromGenesis(batches) : _builder.After(_last, batches);
        _last = sequence;
        Sequences[sequence.FinalNewBatch] = sequence;
        await Generator.AddSequenceAsync(ToInput(sequence), CancellationToken.None);
        return sequence;
    }

    public static SequenceInput ToInput(DevnetSequence sequence) => new(sequence.InitNumBatch, sequence.FinalNewBatch,
        [.. sequence.Batches.Select(b => new BatchInput(b.Number, b.ToInputProver(1001, 6).ToByteArray()))]);

    public async Task WaitForFinalsAsync(int count, int timeoutMs = 30_000)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            lock (Finals)
            {
                if (Finals.Count >= count)
                {
                    return;
                }
            }

            if (watch.ElapsedMilliseconds > timeoutMs)
            {
                lock (Finals)
                {
                    throw new TimeoutException($"{Finals.Count} of {count} final proofs after {timeoutMs} ms");
                }
            }

            await Task.Delay(20);
        }
    }

    public static async Task WaitUntilAsync(Func<bool> condition, int timeoutMs = 20_000, string what = "condition")
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.ElapsedMilliseconds > timeoutMs)
            {
                throw new TimeoutException($"{what} not met within {timeoutMs} ms");
            }

            await Task.Delay(20);
        }
    }

    private bool _disposed;

    /// <summary>Stops the aggregator side (server, generator, store); the mock provers keep running unless told.</summary>
    public async ValueTask DisposeAsync(bool keepDir, bool keepProvers = false)
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (keepProvers)
        {
            _provers.Clear();
        }

        foreach (var (prover, _) in _provers)
        {
            await prover.StopAsync();
            await prover.DisposeAsync();
        }

        await Server.DisposeAsync();
        await Generator.DisposeAsync();
        await Store.DisposeAsync();
        if (!keepDir)
        {
            Dir.Dispose();
        }
    }

    public ValueTask DisposeAsync() => DisposeAsync(keepDir: false);
}
