using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Hosting;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Prover;
using ZkPow.Devnet.Rollup;
using ZkPow.Devnet.Storage;

namespace ZkPow.Devnet.Network;

/// <summary>
/// A whole local network: anvil with the contracts deployed, the devnet rollup (sequencer and rollup node), one
/// aggregator per miner (SQLite in the data folder, the miner's key in an encrypted keystore) and mock provers. With
/// <c>--store postgres</c> a throwaway PostgreSQL cluster under <c>&lt;data-dir&gt;/postgres</c> holds a database per miner and
/// each miner's aggregator runs as <see cref="DevnetOptions.Replicas"/> <c>zkpow run</c> child processes.
/// </summary>
internal sealed partial class DevnetNetwork : IAsyncDisposable
{
    private const string KeystorePassword = "devnet";

    /// <summary>The file (mode 0600, in each miner's folder) holding the operator token of its aggregator.</summary>
    public const string OperatorTokenFile = "operator.token";
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<string, ulong> _settleSentAt = new(StringComparer.OrdinalIgnoreCase);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(3) };
    private readonly Dictionary<int, Aggregator.Storage.PostgresStore> _readingStores = [];
    private readonly SpanCollector _spans = new(AggregatorTracing.SenderSourceName);
    private Task _sequencing = Task.CompletedTask;
    private Task _settling = Task.CompletedTask;
    private Task _killing = Task.CompletedTask;
    private CancellationTokenSource? _killStop;
    private DevnetReplicaKiller? _killer;
    private int _sequencesSent;
    private int _settleCalls;

    private DevnetNetwork(DevnetOptions options, string dataDir, DevChain chain, DevnetRollupLedger ledger, DevnetRollupNode node,
        DevnetSequencer sequencer, ILoggerFactory loggers)
    {
        Faults = new DevnetFaults(options, chain, sequencer, loggers.CreateLogger<DevnetFaults>());
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

    /// <summary>The PostgreSQL cluster of <c>--store postgres</c>, or null.</summary>
    public PostgresCluster? Postgres { get; private set; }

    /// <summary>Whether the aggregators run as child processes (replicas) rather than in this process.</summary>
    public bool RunsReplicas => Options.IsPostgres && !Options.ExternalAggregator;

    /// <summary>The replicas and their kills, or null when the aggregators do not run as child processes.</summary>
    public DevnetReplicaReport? ReplicaReport => RunsReplicas
        ? new DevnetReplicaReport
        {
            Count = Options.Replicas,
            Kills = _killer?.Kills ?? 0,
            LeaderKills = _killer?.LeaderKills ?? 0,
            Restarts = _killer?.Restarts ?? 0,
            UnexpectedExits = Miners.SelectMany(m => m.Replicas).Sum(r => r.UnexpectedExits),
        }
        : null;

    /// <summary>The provers run as bad ones (<c>--bad-provers</c>) and their behaviour.</summary>
    public List<DevnetBadProver> BadProvers { get; } = [];

    /// <summary>The fault proxies, reorgs and outage (<c>--rpc-faults</c>, <c>--reorgs</c>, <c>--outage</c>).</summary>
    public DevnetFaults Faults { get; }

    /// <summary><c>settle(miner)</c> transactions the devnet sent for overdue commitments.</summary>
    public int SettleCalls => Volatile.Read(ref _settleCalls);
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
            AnvilPath = options.AnvilPath,
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
            network._settling = Task.Run(() => network.SettleAsync(network._stopping.Token), CancellationToken.None);
            network.Faults.Start();
            if (options.KillsReplicas)
            {
                network._killer = new DevnetReplicaKiller(options, network.Miners, TimeProvider.System, loggers.CreateLogger<DevnetReplicaKiller>());
                network._killStop = CancellationTokenSource.CreateLinkedTokenSource(network._stopping.Token);
                var killStop = network._killStop.Token;
                network._killing = Task.Run(() => network._killer.RunAsync(killStop), CancellationToken.None);
            }

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
        if (Options.IsPostgres)
        {
            // Durable, as an aggregator runs on it; kept (not deleted) with the rest of the data folder.
            Postgres = await PostgresCluster.StartAsync(new PostgresClusterOptions { Folder = Path.Combine(DataDir, "postgres"), Durable = true },
                cancellationToken).ConfigureAwait(false);
            LogPostgres(Postgres.Folder, Postgres.Port, Postgres.ServerPid);
        }

        var replicaCommand = RunsReplicas ? DevnetReplica.CurrentExecutable() : [];
        for (var i = 0; i < Options.Miners; i++)
        {
            // With several miners in this process, every line logged by miner i's aggregator, fault proxies and provers
            // (the tasks and timers they start carry the scope with them) says whose it is: "=> miner 2".
            using var minerScope = Options.Miners > 1 ? _logger.BeginScope("miner {Miner}", i + 1) : null;
            var account = Chain.Miners[i];
            var dir = Path.Combine(DataDir, Options.Miners == 1 ? "" : $"miner-{i + 1}");
            Directory.CreateDirectory(dir);
            var keystore = Path.Combine(dir, "miner.keystore.json");
            var passwordFile = Path.Combine(dir, "miner.password");
            TxKey.WriteKeystore(keystore, account.PrivateKey, KeystorePassword, DevnetScryptCost);
            SecretFiles.Write(passwordFile, KeystorePassword);
            // The operator token of the dashboard's and the CLI's state-changing requests (requeue, drain); only its hash is configured.
            var operatorToken = ProverTokens.New();
            var operatorTokenFile = Path.Combine(dir, OperatorTokenFile);
            SecretFiles.Write(operatorTokenFile, operatorToken + "\n");
            // Replica K of miner i (0-based) takes the K-th port after the miner's first; without replicas, one port each.
            var replicas = RunsReplicas ? Options.Replicas : 1;
            var proverPorts = Enumerable.Range(0, replicas).Select(k => FreeOr(Options.ProverPort + i * replicas + k)).ToList();
            var httpPorts = Enumerable.Range(0, replicas).Select(k => FreeOr(Options.HttpPort + i * replicas + k)).ToList();
            var (proverPort, httpPort) = (proverPorts[0], httpPorts[0]);
            var (chainUrls, rollupNodeUrls) = await Faults.EndpointsAsync(i + 1, Chain.RpcUrl, RollupNode.Url, cancellationToken).ConfigureAwait(false);
            var config = JsonSerializer.SerializeToNode(new
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
                Http = new { Port = httpPort, OperatorTokenHash = ProverTokens.Hash(operatorToken) },
                // The devnet's rounds last seconds: a job that takes many times the provers' latency (a prover that
                // answers PENDING forever) is cancelled and given to another prover well within a round.
                Generator = new { MaxJobTime = $"{Math.Max(10, (int)Math.Ceiling(Options.ProverLatency.TotalSeconds * 20))}s" },
                Chain = new { RpcUrl = chainUrls[0], RollupAddress = Chain.Contracts.Rollup },
                ExpectedChainId = Chain.ChainId,
                Key = new { KeystorePath = keystore, PasswordFile = passwordFile },
                // With --reorgs (depth 1-3), a tx is final only deeper than any reorg the devnet makes; a reorg that takes
                // a final reveal away is still found by the Proof Manager's re-check, but later.
                TxManager = new { Confirmations = Options.Reorgs > 0 ? 4 : 1, PollInterval = "100ms" },
                Sync = new { RollupNodeUrl = rollupNodeUrls[0], Confirmations = Options.BlockTime == 0 ? 0 : 1, PollInterval = "200ms" },
            })!;
            if (Postgres is not null)
            {
                var database = await Postgres.CreateDatabaseAsync($"miner_{i + 1}", cancellationToken: cancellationToken).ConfigureAwait(false);
                config["Store"] = JsonSerializer.SerializeToNode(new { Provider = "postgres", ConnectionString = database });
                // A killed leader's lease runs out within 2 s (a standby takes over within about 2.5 s), well inside the
                // devnet's short proof windows.
                config["Leader"] = JsonSerializer.SerializeToNode(new { RenewInterval = "500ms", LeaseTime = "2s" });
            }

            if (Options.Proxied)
            {
                // Two endpoints for each node, behind two independent fault proxies.
                config["Chain"]!["RpcUrls"] = new JsonArray([.. chainUrls.Select(u => (JsonNode)u)]);
                config["Sync"]!["RollupNodeUrls"] = new JsonArray([.. rollupNodeUrls.Select(u => (JsonNode)u)]);
            }

            var configPath = Path.Combine(dir, "aggregator.json");
            await File.WriteAllTextAsync(configPath, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken)
                .ConfigureAwait(false);
            var options = OptionsBinder.Bind(OptionsBinder.Load(configPath, Options.AggregatorOverrides));
            var miner = new DevnetMiner(i + 1, account.Address, configPath, options) { OperatorTokenPath = operatorTokenFile };
            Miners.Add(miner);
            if (RunsReplicas)
            {
                for (var k = 0; k < replicas; k++)
                {
                    var replicaConfig = config.DeepClone();
                    replicaConfig["Provers"]!["Port"] = proverPorts[k];
                    replicaConfig["Http"]!["Port"] = httpPorts[k];
                    replicaConfig["Replica"] = JsonSerializer.SerializeToNode(new { Id = $"miner{i + 1}-replica-{k + 1}" });
                    var replicaPath = Path.Combine(dir, $"replica-{k + 1}.json");
                    await File.WriteAllTextAsync(replicaPath, replicaConfig.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken)
                        .ConfigureAwait(false);
                    var replica = new DevnetReplica(i + 1, k + 1, $"miner{i + 1}-replica-{k + 1}", replicaPath, Path.Combine(dir, $"replica-{k + 1}.log"),
                        proverPorts[k], httpPorts[k], replicaCommand, Options.AggregatorOverrides, _loggers.CreateLogger<DevnetReplica>());
                    miner.Replicas.Add(replica);
                    replica.Start();
                }
            }
            else if (!Options.ExternalAggregator)
            {
                // The same composition as zkpow run, one host per miner in this process (stopped by the devnet, not by signals).
                miner.Host = await AggregatorHost.StartAsync(options, _loggers, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            }

            for (var p = 0; p < Options.Provers; p++)
            {
                var behaviour = Options.BehaviourOf(p);
                var name = $"miner{i + 1}-gpu-{p + 1:D2}";
                if (behaviour != MockProverMisbehaviour.None)
                {
                    BadProvers.Add(new DevnetBadProver(name, behaviour.ToString()));
                }

                // Prover p starts on replica p % N and moves on to the next one when its connection fails or ends.
                var addresses = Enumerable.Range(0, proverPorts.Count).Select(k => new Uri($"http://127.0.0.1:{proverPorts[(p + k) % proverPorts.Count]}")).ToList();
                var prover = new MockProver(new MockProverOptions
                {
                    Aggregator = addresses[0],
                    FallbackAggregators = addresses[1..],
                    Name = name,
                    BatchLatency = Options.ProverLatency,
                    AggregateLatency = Options.ProverLatency,
                    FinalLatency = Options.ProverLatency,
                    Seed = Options.Seed + p,
                    Misbehaviour = behaviour,
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
            while (!cancellationToken.IsCancellationRequested)
            {
                var more = Options.Sequences == 0 || SequencesSent < Options.Sequences;
                if (!more && Options.Reorgs == 0)
                {
                    return;
                }

                try
                {
                    // A reorg may have dropped sequences already sent: they go again first, in order.
                    await Sequencer.RepairAsync(cancellationToken).ConfigureAwait(false);
                    if (more)
                    {
                        await Sequencer.SequenceNextAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                        Interlocked.Increment(ref _sequencesSent);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogSequencerFailed(ex);
                }

                await Task.Delay(more ? Options.SequenceInterval : TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The replicas' figures from their <c>/api/status</c> (replicas that do not answer are skipped) and the
    /// miners' databases; null when the aggregators do not run as replicas.</summary>
    public async Task<DevnetReplicaFigures?> ReadReplicaFiguresAsync(CancellationToken cancellationToken)
    {
        if (!RunsReplicas)
        {
            return null;
        }

        var (finals, connected, busy, txs, discovered) = (0L, 0L, 0L, 0, 0L);
        var leaders = new List<string?>();
        foreach (var miner in Miners)
        {
            var (minerFinals, leader) = (0L, (string?)null);
            foreach (var replica in miner.Replicas.Where(r => r.Pid is not null))
            {
                if (await ReadStatusAsync(replica, cancellationToken).ConfigureAwait(false) is not { } status)
                {
                    continue; // a replica starting, stopping or killed
                }

                minerFinals = Math.Max(minerFinals, status.GetProperty("finalProofs").GetInt64());
                foreach (var prover in status.GetProperty("provers").EnumerateArray())
                {
                    connected++;
                    busy += prover.GetProperty("idle").GetBoolean() ? 0 : 1;
                }

                if (status.GetProperty("role").GetString() == "leader")
                {
                    leader = replica.Id;
                    txs += status.GetProperty("pendingTxs").GetInt32();
                }
            }

            finals += minerFinals;
            leaders.Add(leader);
            if (miner.Options.Store.ConnectionString is { } database)
            {
                try
                {
                    await using var connection = new Npgsql.NpgsqlConnection(database);
                    await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                    await using var count = new Npgsql.NpgsqlCommand("SELECT COUNT(*) FROM sync_sequences;", connection);
                    discovered = Math.Max(discovered, (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!);
                }
                catch (Npgsql.NpgsqlException)
                {
                    // Not migrated yet.
                }
            }
        }

        return new DevnetReplicaFigures(finals, connected, busy, txs, discovered, leaders);
    }

    /// <summary>A replica's <c>/api/status</c>, or null when it does not answer (starting, stopping or killed).</summary>
    private async Task<JsonElement?> ReadStatusAsync(DevnetReplica replica, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri(replica.StatusAddress, "api/status"), cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            return json.RootElement.Clone();
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>The <c>/api/status</c> of the miner's replica that answers as its leader, or null.</summary>
    private async Task<JsonElement?> ReadLeaderStatusAsync(DevnetMiner miner, CancellationToken cancellationToken)
    {
        foreach (var replica in miner.Replicas.Where(r => r.Pid is not null))
        {
            if (await ReadStatusAsync(replica, cancellationToken).ConfigureAwait(false) is { } status && status.GetProperty("role").GetString() == "leader")
            {
                return status;
            }
        }

        return null;
    }

    /// <summary>The devnet's own connection to a miner's PostgreSQL store, for reads (the stall check); opened once.</summary>
    private async Task<Aggregator.Storage.IAggregatorStore> ReadingStoreAsync(DevnetMiner miner, CancellationToken cancellationToken)
    {
        if (!_readingStores.TryGetValue(miner.Index, out var store))
        {
            store = await Aggregator.Storage.PostgresStore.OpenAsync(miner.Options.Store, TimeProvider.System, cancellationToken, owner: "devnet-reader")
                .ConfigureAwait(false);
            _readingStores[miner.Index] = store;
        }

        return store;
    }

    /// <summary>The commitments the contract holds open for the devnet's miners (overdue ones flagged).</summary>
    public async Task<IReadOnlyList<DevnetOpenCommitment>> ReadOpenCommitmentsAsync(CancellationToken cancellationToken)
    {
        var head = await RollupChain.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
        var windows = await RollupChain.GetProofWindowsAsync(cancellationToken).ConfigureAwait(false);
        return await DevnetCommitments.ReadAsync(Rpc, RollupChain, Miners.Select(m => m.Address), head, windows, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Turns overdue commitments into slashes as the admin may: <c>settle(miner)</c> for every miner holding one, so a
    /// commitment left unrevealed shows as a <c>Slashed</c> event instead of waiting for the miner's next transaction.
    /// </summary>
    private async Task SettleAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                try
                {
                    var open = await ReadOpenCommitmentsAsync(cancellationToken).ConfigureAwait(false);
                    var head = await RollupChain.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
                    foreach (var overdue in open.Where(c => c.Overdue).GroupBy(c => c.Miner, StringComparer.OrdinalIgnoreCase))
                    {
                        if (_settleSentAt.TryGetValue(overdue.Key, out var sentAt) && head < sentAt + 3)
                        {
                            continue; // the last settle may not be mined yet
                        }

                        await Chain.SendTransactionAsync(Chain.Admin, Chain.Contracts.Rollup, RollupCalls.Settle(overdue.Key), ct: cancellationToken)
                            .ConfigureAwait(false);
                        _settleSentAt[overdue.Key] = head;
                        Interlocked.Increment(ref _settleCalls);
                        LogSettling(overdue.Key, string.Join(", ", overdue.Select(c => c.FinalNewBatch)));
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogSettleFailed(ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>All sequences sent are verified, and every commitment of our miners is revealed or settled (none open).</summary>
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

        return (await ReadOpenCommitmentsAsync(cancellationToken).ConfigureAwait(false)).Count == 0;
    }

    /// <summary>
    /// Whether nothing left can make progress (for <c>--exit-when-done</c>): every sequence is sent but not all are
    /// verified, something is parked (a task by the generator or a sequence by the sender), and in no aggregator
    /// (in-process, or replicas: the leader's status and the database) is a task ready or running, a final proof waiting for the sender, a submission on its way (only
    /// sequences queued behind a parked one may wait), or a tx in flight; and no commitment of ours is open on chain.
    /// Null when progress is possible (or cannot be judged: an external aggregator). A caller should act on a stall only
    /// once it has lasted a while with the same <see cref="DevnetStall.Fingerprint"/>.
    /// </summary>
    public async Task<DevnetStall?> ReadStallAsync(CancellationToken cancellationToken)
    {
        if (!AllSequencesSent || (!RunsReplicas && Miners.Any(m => m.Node is null)))
        {
            return null;
        }

        var verified = await RollupChain.GetLastVerifiedBatchAsync(cancellationToken).ConfigureAwait(false);
        if (verified >= Ledger.LastBatch)
        {
            return null;
        }

        var (parkedTasks, parkedSequences) = (0, 0);
        var fingerprint = new System.Text.StringBuilder().Append(System.Globalization.CultureInfo.InvariantCulture, $"verified {verified}");
        foreach (var miner in Miners)
        {
            Aggregator.Storage.IAggregatorStore store;
            if (miner.Node is { } node)
            {
                if (!node.IsRunning || node.TxsInFlight > 0)
                {
                    return null;
                }

                store = node.Store;
            }
            else
            {
                // Replicas: a leader must answer with no transaction pending; the store is read from the database.
                var leader = await ReadLeaderStatusAsync(miner, cancellationToken).ConfigureAwait(false);
                if (leader is not { } status || status.GetProperty("pendingTxs").GetInt32() > 0)
                {
                    return null;
                }

                store = await ReadingStoreAsync(miner, cancellationToken).ConfigureAwait(false);
            }

            var counts = await store.CountTasksAsync(cancellationToken).ConfigureAwait(false);
            if (counts.Any(c => c.Key.State is Aggregator.Generator.TaskState.Ready or Aggregator.Generator.TaskState.Assigned && c.Value > 0))
            {
                return null;
            }

            var parked = await store.ListSenderParkedAsync(cancellationToken).ConfigureAwait(false);
            var parkedTaskList = await store.ListParkedAsync(cancellationToken).ConfigureAwait(false);
            parkedTasks += parkedTaskList.Count;
            parkedSequences += parked.Count;

            // A final proof not committed yet (no submission, or a queued one) may wait only behind a parked sequence: the
            // commit policy holds it for its predecessor.
            var firstParked = parked.Select(p => p.FinalBatch).Concat(parkedTaskList.Select(t => t.Sequence)).DefaultIfEmpty(ulong.MaxValue).Min();
            var open = await store.ListOpenSubmissionsAsync(cancellationToken).ConfigureAwait(false);
            var unsent = await store.ListUnsentFinalProofsAsync(cancellationToken).ConfigureAwait(false);
            if (open.Any(o => o.State != Aggregator.Sender.SubmissionState.Queued || o.FinalBatch <= firstParked) || unsent.Any(f => f <= firstParked))
            {
                return null;
            }

            fingerprint.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"; miner {miner.Index}: tasks {string.Join(",", counts.OrderBy(c => c.Key).Select(c => $"{c.Key.Kind}/{c.Key.State}={c.Value}"))}, " +
                $"queued {string.Join(",", open.Select(o => o.FinalBatch))}, unsent {string.Join(",", unsent)}, parked {string.Join(",", parked.Select(p => p.FinalBatch))}");
        }

        if (parkedTasks + parkedSequences == 0)
        {
            return null; // Nothing parked: whatever holds the run back is not a stall of this kind (the sync, say).
        }

        if ((await ReadOpenCommitmentsAsync(cancellationToken).ConfigureAwait(false)).Count > 0)
        {
            return null;
        }

        return new DevnetStall(
            $"nothing left can make progress: verified up to batch {verified} of {Ledger.LastBatch}, {parkedTasks} parked tasks and " +
            $"{parkedSequences} parked sequences, no task ready or running", fingerprint.ToString());
    }

    public async Task<DevnetReport> ReportAsync(CancellationToken cancellationToken)
    {
        // The run is over: no kill after the report counts them (a replica killed then would be in the log and not in it).
        await StopKillingAsync().ConfigureAwait(false);
        // The first broadcast of each miner (cold connections and caches) is reported on its own.
        var perMiner = Miners.Where(m => m.Node is not null).Select(m => m.Node!.SenderMetrics.HashLatencySamples).ToList();
        var samples = perMiner.SelectMany(s => s.Skip(1)).ToList();
        var reporter = new DevnetReporter(Rpc, RollupChain, [.. Miners.Select(m => new DevnetMinerInfo(m.Address, m.Options.Store.SqlitePath)
        {
            ConnectionString = m.Options.Store.IsPostgres ? m.Options.Store.ConnectionString : null,
        })]);
        var report = await reporter.BuildAsync(Miners.Any(m => m.Node is not null) ? samples : null, Faults.Report(), SettleCalls, cancellationToken).ConfigureAwait(false);
        var firsts = perMiner.Where(s => s.Count > 0).Select(s => s[0]).ToList();
        var all = perMiner.SelectMany(s => s).ToList();
        return report with
        {
            BadProvers = [.. BadProvers],
            HashBroadcastFirstMs = firsts.Count > 0 ? Math.Round(firsts.Max(), 3) : null,
            HashBroadcastWithFirstP99Ms = DevnetReporter.Percentile(all, 0.99) is { } p99 ? Math.Round(p99, 3) : null,
            HashBroadcastWithFirstSamples = all.Count,
            SenderSpans = _spans.Summary(),
            Replicas = ReplicaReport,
            FinalProofsRequestedTwice = Options.Provers > 0 ? FinalProofsRequestedTwice() : null,
        };
    }

    /// <summary>Sequences whose final proof this devnet's mock provers (all of a miner's) were asked for more than once.</summary>
    private List<DevnetFinalRequests> FinalProofsRequestedTwice()
    {
        var list = new List<DevnetFinalRequests>();
        foreach (var miner in Miners)
        {
            var requests = new Dictionary<(ulong InitBatch, ulong FinalBatch), int>();
            var cancels = new Dictionary<(ulong InitBatch, ulong FinalBatch), int>();
            foreach (var (prover, _) in miner.Provers)
            {
                foreach (var (range, count) in prover.Counters.FinalProofRequestsByRange())
                {
                    requests[range] = requests.GetValueOrDefault(range) + count;
                }

                foreach (var (range, count) in prover.Counters.FinalProofCancelsByRange())
                {
                    cancels[range] = cancels.GetValueOrDefault(range) + count;
                }
            }

            list.AddRange(requests.Where(r => r.Value > 1).OrderBy(r => r.Key.FinalBatch).Select(r => new DevnetFinalRequests
            {
                Miner = miner.Address,
                InitBatch = r.Key.InitBatch,
                FinalBatch = r.Key.FinalBatch,
                Requests = r.Value,
                Cancels = cancels.GetValueOrDefault(r.Key),
            }));
        }

        return list;
    }

    /// <summary>The scrypt cost of the devnet's keystores: the miners' keys are the chain's well-known development keys,
    /// so the usual cost (<see cref="TxKey.DefaultScryptCost"/>, seconds to open on a small machine) would protect nothing
    /// and slow every start of a miner's aggregator.</summary>
    private const int DevnetScryptCost = 4096;

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

    /// <summary>Stops <c>--kill-replicas</c> and waits until it has stopped: no kill after this, and a replica killed in the
    /// second before is not started again (the devnet is ending).</summary>
    private async Task StopKillingAsync()
    {
        if (_killStop is { } stop)
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }

        await _killing.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _spans.Dispose();
        _http.Dispose();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _sequencing.ConfigureAwait(false);
        await _settling.ConfigureAwait(false);
        await StopKillingAsync().ConfigureAwait(false);
        _killer?.Dispose();
        _killStop?.Dispose();
        foreach (var miner in Miners)
        {
            foreach (var (prover, _) in miner.Provers)
            {
                await prover.DisposeAsync().ConfigureAwait(false);
            }

            if (_readingStores.Remove(miner.Index, out var reading))
            {
                await reading.DisposeAsync().ConfigureAwait(false);
            }

            // Replicas stop by PID: SIGTERM (each drains and releases its lease), SIGKILL after a grace period.
            await Task.WhenAll(miner.Replicas.Select(r => r.DisposeAsync().AsTask())).ConfigureAwait(false);

            if (miner.Host is not null)
            {
                try
                {
                    await miner.Host.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // The devnet still takes everything else down and reports; the aggregator's own failure is logged.
                    LogNodeStopFailed(miner.Index, ex);
                }
            }
        }

        await Faults.DisposeAsync().ConfigureAwait(false);
        Rpc.Dispose();
        await RollupNode.DisposeAsync().ConfigureAwait(false);
        await Chain.DisposeAsync().ConfigureAwait(false);
        Postgres?.Stop();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Miner {Index} {Address}: provers dial port {ProverPort}, status on port {HttpPort}, configuration {Config}")]
    private partial void LogMiner(int index, string address, int proverPort, int httpPort, string config);

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL cluster in {Folder} on port {Port} (PID {Pid})")]
    private partial void LogPostgres(string folder, int port, int pid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Commitments of {Miner} are overdue (sequences ending at {Batches}): settling them (they are slashed)")]
    private partial void LogSettling(string miner, string batches);

    [LoggerMessage(Level = LogLevel.Error, Message = "The aggregator of miner {Index} failed while stopping")]
    private partial void LogNodeStopFailed(int index, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Settling overdue commitments failed: {Error}; trying again")]
    private partial void LogSettleFailed(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The devnet sequencer failed to send a sequence; trying again")]
    private partial void LogSequencerFailed(Exception error);
}
