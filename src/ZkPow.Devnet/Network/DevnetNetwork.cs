using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Hosting;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Prover;
using ZkPow.Devnet.Rollup;

namespace ZkPow.Devnet.Network;

/// <summary>
/// A whole local network: anvil with the contracts deployed, the devnet rollup (sequencer and rollup node), one
/// aggregator per miner (SQLite in the data folder, the miner's key in an encrypted keystore) and mock provers.
/// </summary>
internal sealed partial class DevnetNetwork : IAsyncDisposable
{
    private const string KeystorePassword = "devnet";
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task _sequencing = Task.CompletedTask;
    private int _sequencesSent;

    private DevnetNetwork(DevnetOptions options, string dataDir, DevChain chain, DevnetRollupLedger ledger, DevnetRollupNode node,
        DevnetSequencer sequencer, ILoggerFactory loggers)
    {
        Options = options;
        DataDir = dataDir;
        Chain = chain;
        Ledger = ledger;
        RollupNode = node;
        Sequencer = sequencer;
        _loggers = loggers;
        _logger = loggers.CreateLogger<DevnetNetwork>();
        Rpc = new EthRpcClient(chain.RpcUrl, TimeSpan.FromSeconds(10));
        RollupChain = new RollupChainClient(Rpc, chain.Contracts.Rollup);
    }

    public DevnetOptions Options { get; }
    public string DataDir { get; }
    public DevChain Chain { get; }
    public DevnetRollupLedger Ledger { get; }
    public DevnetRollupNode RollupNode { get; }
    public DevnetSequencer Sequencer { get; }
    public EthRpcClient Rpc { get; }
    public RollupChainClient RollupChain { get; }
    public List<DevnetMiner> Miners { get; } = [];
    public int SequencesSent => Volatile.Read(ref _sequencesSent);

    /// <summary>The last batch of the last sequence the run will send (known once they are all sent).</summary>
    public bool AllSequencesSent => Options.Sequences > 0 && SequencesSent >= Options.Sequences;

    public static async Task<DevnetNetwork> StartAsync(DevnetOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        options.Validate();
        var dataDir = Path.GetFullPath(options.DataDir ?? Path.Combine(".devnet", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture)));
        if (Directory.Exists(dataDir) && Directory.EnumerateFileSystemEntries(dataDir).Any())
        {
            throw new ArgumentException($"--data-dir {dataDir} is not empty; the devnet starts from a fresh folder");
        }

        Directory.CreateDirectory(dataDir);
        var chain = await DevChain.StartAsync(new DevChainOptions
        {
            BlockTime = options.BlockTime,
            T1 = options.T1,
            T2 = options.T2,
            Miners = options.Miners,
            Port = FreeOr(options.RpcPort),
        }, cancellationToken).ConfigureAwait(false);
        var ledger = new DevnetRollupLedger();
        var node = await DevnetRollupNode.StartAsync(ledger, new DevnetRollupNodeOptions { Port = FreeOr(options.RollupNodePort) },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        var sequencer = new DevnetSequencer(chain, new DevnetSequencerOptions
        {
            Seed = options.Seed,
            MaxBatchesPerSequence = options.MaxBatches,
            Interval = options.SequenceInterval,
        }, ledger, TimeProvider.System, loggers.CreateLogger<DevnetSequencer>());
        var network = new DevnetNetwork(options, dataDir, chain, ledger, node, sequencer, loggers);
        try
        {
            await network.StartMinersAsync(cancellationToken).ConfigureAwait(false);
            network._sequencing = Task.Run(() => network.SequenceAsync(network._stopping.Token), CancellationToken.None);
            return network;
        }
        catch
        {
            await network.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task StartMinersAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < Options.Miners; i++)
        {
            var account = Chain.Miners[i];
            var dir = Path.Combine(DataDir, Options.Miners == 1 ? "" : $"miner-{i + 1}");
            Directory.CreateDirectory(dir);
            var keystore = Path.Combine(dir, "miner.keystore.json");
            var passwordFile = Path.Combine(dir, "miner.password");
            TxKey.WriteKeystore(keystore, account.PrivateKey, KeystorePassword);
            await File.WriteAllTextAsync(passwordFile, KeystorePassword, cancellationToken).ConfigureAwait(false);
            var proverPort = FreeOr(Options.ProverPort + i);
            var httpPort = FreeOr(Options.HttpPort + i);
            var config = new
            {
                Store = new { SqlitePath = Path.Combine(dir, "aggregator.db") },
                // The devnet's provers all dial from loopback (one principal): room for each of them to reconnect.
                Provers = new
                {
                    ListenAddress = "127.0.0.1",
                    Port = proverPort,
                    ForkId = Chain.Options.ForkId,
                    MaxSessionsPerPrincipal = Math.Max(64, Options.Provers * 2),
                },
                Http = new { Port = httpPort },
                Chain = new { RpcUrl = Chain.RpcUrl, RollupAddress = Chain.Contracts.Rollup },
                ExpectedChainId = Chain.ChainId,
                Key = new { KeystorePath = keystore, PasswordFile = passwordFile },
                TxManager = new { Confirmations = 1, PollInterval = "100ms" },
                Sync = new { RollupNodeUrl = RollupNode.Url, Confirmations = Options.BlockTime == 0 ? 0 : 1, PollInterval = "200ms" },
            };
            var configPath = Path.Combine(dir, "aggregator.json");
            await File.WriteAllTextAsync(configPath, JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }), cancellationToken)
                .ConfigureAwait(false);
            var options = OptionsBinder.Bind(OptionsBinder.Load(configPath, []));
            var miner = new DevnetMiner(i + 1, account.Address, configPath, options);
            Miners.Add(miner);
            if (!Options.ExternalAggregator)
            {
                miner.Node = await AggregatorNode.StartAsync(options, _loggers, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            }

            for (var p = 0; p < Options.Provers; p++)
            {
                var prover = new MockProver(new MockProverOptions
                {
                    Aggregator = new Uri($"http://127.0.0.1:{proverPort}"),
                    Name = $"miner{i + 1}-gpu-{p + 1:D2}",
                    BatchLatency = Options.ProverLatency,
                    AggregateLatency = Options.ProverLatency,
                    FinalLatency = Options.ProverLatency,
                    Seed = Options.Seed + p,
                }, TimeProvider.System, _loggers.CreateLogger<MockProver>());
                miner.Provers.Add((prover, prover.RunAsync(_stopping.Token)));
            }

            LogMiner(miner.Index, miner.Address, proverPort, httpPort, configPath);
        }
    }

    private async Task SequenceAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested && (Options.Sequences == 0 || SequencesSent < Options.Sequences))
            {
                try
                {
                    await Sequencer.SequenceNextAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref _sequencesSent);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogSequencerFailed(ex);
                }

                await Task.Delay(Options.SequenceInterval, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>All sequences sent are verified, and every commitment of our miners was revealed or slashed.</summary>
    public async Task<bool> IsDoneAsync(CancellationToken cancellationToken)
    {
        if (!AllSequencesSent)
        {
            return false;
        }

        var verified = await RollupChain.GetLastVerifiedBatchAsync(cancellationToken).ConfigureAwait(false);
        if (verified < Ledger.LastBatch)
        {
            return false;
        }

        var head = await RollupChain.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
        var events = await RollupChain.GetEventsAsync(0, head, cancellationToken).ConfigureAwait(false);
        var settled = events.Where(e => e is RewardPaidEvent or SlashedEvent).Select(e => e switch
        {
            RewardPaidEvent r => (r.Prover.ToLowerInvariant(), r.FinalNewBatch),
            SlashedEvent s => (s.Prover.ToLowerInvariant(), s.FinalNewBatch),
            _ => default,
        }).ToHashSet();
        return events.OfType<SubmitProofHashEvent>().All(c => settled.Contains((c.Prover.ToLowerInvariant(), c.FinalNewBatch)));
    }

    public Task<DevnetReport> ReportAsync(CancellationToken cancellationToken)
    {
        var samples = Miners.Where(m => m.Node is not null).SelectMany(m => m.Node!.SenderMetrics.HashLatencySamples).ToList();
        var reporter = new DevnetReporter(Rpc, RollupChain, [.. Miners.Select(m => new DevnetMinerInfo(m.Address, m.Options.Store.SqlitePath))]);
        return reporter.BuildAsync(Miners.Any(m => m.Node is not null) ? samples : null, cancellationToken);
    }

    private static int FreeOr(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return port;
        }
        catch (SocketException)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _sequencing.ConfigureAwait(false);
        foreach (var miner in Miners)
        {
            foreach (var (prover, _) in miner.Provers)
            {
                await prover.DisposeAsync().ConfigureAwait(false);
            }

            if (miner.Node is not null)
            {
                await miner.Node.DisposeAsync().ConfigureAwait(false);
            }
        }

        Rpc.Dispose();
        await RollupNode.DisposeAsync().ConfigureAwait(false);
        await Chain.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Miner {Index} {Address}: provers dial port {ProverPort}, status on port {HttpPort}, configuration {Config}")]
    private partial void LogMiner(int index, string address, int proverPort, int httpPort, string config);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The devnet sequencer failed to send a sequence; trying again")]
    private partial void LogSequencerFailed(Exception error);
}
