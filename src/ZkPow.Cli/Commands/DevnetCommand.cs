using System.CommandLine;
using System.Numerics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using ZkPow.Aggregator;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Hosting;
using ZkPow.Devnet.Network;
using ZkPow.Devnet.Prover;

namespace ZkPow.Cli.Commands;

/// <summary><c>zkpow devnet</c>: the whole local network in one command, and <c>zkpow devnet report</c>.</summary>
internal static class DevnetCommand
{
    /// <summary>Where a running devnet keeps its fault counters for <c>devnet report</c> (rewritten every second).</summary>
    private const string DevnetFaultsFile = "faults.json";

    /// <summary>The chain's own URL (the aggregators' may be fault proxies), for <c>devnet report</c>.</summary>
    private const string DevnetChainFile = "chain-url.txt";

    public static Command Create()
    {
        var provers = new Option<int>("--provers") { Description = "Mock provers per miner (0 = wait for external provers on --prover-port)", DefaultValueFactory = _ => 8 };
        var badProvers = new Option<int>("--bad-provers") { Description = "How many of --provers misbehave, with behaviours drawn in turn from --bad-behaviours", DefaultValueFactory = _ => 0 };
        var badBehaviours = new Option<MockProverMisbehaviour[]>("--bad-behaviours")
        {
            Description = "Behaviours of the bad provers, in turn (default: PendingForever, Flapping, JunkRecursiveProof, WrongFinalProof, FailEveryJob)",
            AllowMultipleArgumentsPerToken = true,
        };
        var sequences = new Option<int>("--sequences") { Description = "Sequences the rollup sends (0 = keep going until stopped)", DefaultValueFactory = _ => 0 };
        var maxBatches = new Option<int>("--max-batches") { Description = "Batches per sequence are drawn from 1..N", DefaultValueFactory = _ => 8 };
        var miners = new Option<int>("--miners") { Description = "Competing miners, each with its own aggregator, store, key and provers", DefaultValueFactory = _ => 1 };
        var t1 = new Option<byte>("--t1") { Description = "Hash window T1, in blocks", DefaultValueFactory = _ => 5 };
        var t2 = new Option<byte>("--t2") { Description = "Proof window T2, in blocks", DefaultValueFactory = _ => 10 };
        var blockTime = new Option<int>("--block-time") { Description = "Seconds between blocks (whole seconds; 0 = a block per transaction)", DefaultValueFactory = _ => 1 };
        var latency = CliOptions.Duration("--prover-latency", "Time each mock prover job takes", TimeSpan.FromMilliseconds(200));
        var proverPort = new Option<int>("--prover-port") { Description = "Prover gRPC port of the first miner (a taken port falls back to a free one)", DefaultValueFactory = _ => 50081 };
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder for the devnet's stores, keystores and configurations (default: a fresh one under .devnet/)" };
        var seed = new Option<int>("--seed") { Description = "Seed of the rollup's batches", DefaultValueFactory = _ => 1 };
        var exitWhenDone = new Option<bool>("--exit-when-done")
        {
            Description = "Stop once --sequences are verified and every round taken part in is settled, then print a summary; " +
                          "stop with a non-zero exit code (and the summary) if nothing left can make progress (everything left parked)",
        };
        var external = new Option<bool>("--external-aggregator") { Description = "Start everything but the aggregator; write <data-dir>/aggregator.json for 'zkpow run'" };
        var anvil = new Option<string?>("--anvil") { Description = "The anvil binary (default: env ANVIL_BINARY, the repository's npm install, anvil on PATH, else the pinned version installed once into ~/.cache/zkpow)" };
        var rpcFaults = new Option<double?>("--rpc-faults")
        {
            Description = "Put two fault proxies before anvil and two before the rollup node for each aggregator, failing this share (0..1) of its JSON-RPC requests",
        };
        var reorgs = new Option<int>("--reorgs") { Description = "An anvil_reorg of depth 1-3 every ~N blocks (0 = none)", DefaultValueFactory = _ => 0 };
        var outage = new Option<string?>("--outage") { Description = "D@S: every proxied endpoint unreachable for D, starting S after start-up (e.g. 8s@60s)" };
        var store = new Option<string>("--store")
        {
            Description = "The aggregators' store: sqlite (a file per miner, the aggregator in this process) or postgres (a throwaway PostgreSQL cluster " +
                          "under <data-dir>/postgres, a database per miner, each miner's aggregator run as --replicas 'zkpow run' processes)",
            DefaultValueFactory = _ => DevnetOptions.SqliteStore,
        };
        store.AcceptOnlyFromAmong(DevnetOptions.SqliteStore, DevnetOptions.PostgresStore);
        var replicas = new Option<int>("--replicas") { Description = "Aggregator replicas per miner, each a 'zkpow run' process on the miner's database (above 1 needs --store postgres)", DefaultValueFactory = _ => 1 };
        var killReplicas = new Option<string?>("--kill-replicas")
        {
            Description = "MIN-MAX: every random MIN..MAX kill one replica with SIGKILL (the current leader at least every other kill) and restart it a second later (e.g. 10s-20s; needs --replicas 2 or more)",
        };
        var timeout = CliOptions.OptionalDuration("--timeout", "Stop with the report and a non-zero exit code if the run has not finished by then (e.g. 10m)");
        var json = CliOptions.Json();
        var logLevel = CliOptions.LogLevel(LogLevel.Warning);
        var command = new Command("devnet", "Run a whole local network: anvil with the contracts, the devnet rollup, mock provers and the aggregator")
        {
            provers, badProvers, badBehaviours, sequences, maxBatches, miners, t1, t2, blockTime, latency, proverPort, dataDir, seed, exitWhenDone, external, anvil,
            rpcFaults, reorgs, outage, store, replicas, killReplicas, timeout, json, logLevel,
            Report(),
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new DevnetOptions
            {
                Provers = parse.GetValue(provers),
                BadProvers = parse.GetValue(badProvers),
                BadBehaviours = parse.GetValue(badBehaviours) is { Length: > 0 } chosen ? chosen : DevnetOptions.DefaultBadBehaviours,
                Sequences = parse.GetValue(sequences),
                MaxBatches = parse.GetValue(maxBatches),
                Miners = parse.GetValue(miners),
                T1 = parse.GetValue(t1),
                T2 = parse.GetValue(t2),
                BlockTime = parse.GetValue(blockTime),
                ProverLatency = parse.GetValue(latency),
                ProverPort = parse.GetValue(proverPort),
                DataDir = parse.GetValue(dataDir),
                Seed = parse.GetValue(seed),
                ExternalAggregator = parse.GetValue(external),
                AnvilPath = parse.GetValue(anvil),
                RpcFaults = parse.GetValue(rpcFaults),
                Reorgs = parse.GetValue(reorgs),
                Store = parse.GetValue(store)!,
                Replicas = parse.GetValue(replicas),
            };
            var asJson = parse.GetValue(json);
            var done = parse.GetValue(exitWhenDone);
            var deadline = parse.GetValue(timeout);
            try
            {
                if (parse.GetValue(outage) is { } outageText)
                {
                    (options.OutageDuration, options.OutageStart) = DevnetOptions.ParseOutage(outageText);
                }

                if (parse.GetValue(killReplicas) is { } killText)
                {
                    (options.KillReplicasMin, options.KillReplicasMax) = DevnetOptions.ParseKillReplicas(killText);
                }

                if (deadline is { } d && d <= TimeSpan.Zero)
                {
                    throw new ArgumentException("--timeout must be positive");
                }

                options.Validate();
                if (done && options.Sequences == 0)
                {
                    throw new ArgumentException("--exit-when-done needs --sequences N");
                }
            }
            catch (ArgumentException ex)
            {
                await Console.Error.WriteLineAsync($"zkpow devnet: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            var started = System.Diagnostics.Stopwatch.StartNew();
            using var loggers = CliLogging.Create(parse.GetValue(logLevel));
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            console.MarkupLine("[grey]zkpow devnet: starting anvil, the contracts, the rollup, the provers and the aggregator…[/]");
            DevnetNetwork network;
            try
            {
                network = await DevnetNetwork.StartAsync(options, loggers, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ArgumentException or OptionsException or IOException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"zkpow devnet: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C while starting: what had started is stopped again.
                return CliApp.ExitCode(1);
            }

            await using (network.ConfigureAwait(false))
            {
                PrintStart(console, network);
                await File.WriteAllTextAsync(Path.Combine(network.DataDir, DevnetChainFile), network.Chain.RpcUrl, CancellationToken.None).ConfigureAwait(false);
                using var timedOut = new CancellationTokenSource();
                if (deadline is { } limit)
                {
                    timedOut.CancelAfter(limit > started.Elapsed ? limit - started.Elapsed : TimeSpan.Zero);
                }

                using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timedOut.Token);
                var (finished, stall) = await WatchAsync(console, network, done, live: !asJson && !Console.IsErrorRedirected, watching.Token).ConfigureAwait(false);
                if (stall is not null)
                {
                    console.MarkupLine($"[red]zkpow devnet: {Markup.Escape(stall.Reason)}[/]");
                }
                if (!finished && timedOut.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    console.MarkupLine($"[red]zkpow devnet: --timeout {ZkPow.Aggregator.Durations.Format(deadline!.Value)} reached before the run finished[/]");
                }

                using var reportCancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
                DevnetReport report;
                try
                {
                    report = await network.ReportAsync(reportCancel.Token).ConfigureAwait(false) with
                    {
                        Stalled = stall?.Reason,
                        DurationSeconds = Math.Round(started.Elapsed.TotalSeconds, 1),
                    };
                }
                catch (Exception ex) when (ex is ChainUnavailableException or EthRpcException or OperationCanceledException or Npgsql.NpgsqlException)
                {
                    // Ctrl+C in a terminal signals anvil (and PostgreSQL) too: the chain or a store may be gone before the report is read.
                    await Console.Error.WriteLineAsync($"zkpow devnet: no report: {(ex is Npgsql.NpgsqlException ? "a miner's store" : "the chain")} did not answer ({ex.Message})")
                        .ConfigureAwait(false);
                    return CliApp.ExitCode(1);
                }

                await File.WriteAllTextAsync(Path.Combine(network.DataDir, "report.json"), JsonSerializer.Serialize(report, JsonOutput.Options), CancellationToken.None)
                    .ConfigureAwait(false);
                if (asJson)
                {
                    JsonOutput.Write(report);
                }
                else
                {
                    PrintSummary(report);
                }

                if (timedOut.IsCancellationRequested && !finished)
                {
                    return CliApp.ExitCode(1);
                }

                return CliApp.ExitCode(finished || !done ? 0 : 1);
            }
        });
        return command;
    }

    private static Command Report()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "The devnet's folder", Required = true };
        var json = CliOptions.Json();
        var command = new Command("report", "Print the chain-derived summary of a devnet that is running or has run") { dataDir, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var dir = parse.GetValue(dataDir)!;
            var configs = Directory.Exists(dir)
                ? Directory.EnumerateFiles(dir, "aggregator.json", SearchOption.AllDirectories).Order().ToList()
                : [];
            if (configs.Count == 0)
            {
                await Console.Error.WriteLineAsync($"zkpow devnet report: no devnet in '{dir}' (no aggregator.json)").ConfigureAwait(false);
                return 2;
            }

            DevnetReport? report = null;
            try
            {
                var options = configs.Select(c => OptionsBinder.Bind(OptionsBinder.Load(c, []))).ToList();
                // The chain itself, not the fault proxies the aggregators may be given.
                var chainFile = Path.Combine(dir, DevnetChainFile);
                var chainUrl = File.Exists(chainFile) ? (await File.ReadAllTextAsync(chainFile, cancellationToken).ConfigureAwait(false)).Trim() : options[0].Chain.RpcUrl;
                using var rpc = new EthRpcClient(chainUrl, TimeSpan.FromSeconds(10));
                var chain = new RollupChainClient(rpc, options[0].Chain.RollupAddress);
                var miners = options.Select(o => new DevnetMinerInfo(TxKey.Load(o.Key).Address, o.Store.SqlitePath)
                {
                    ConnectionString = o.Store.IsPostgres ? o.Store.ConnectionString : null,
                }).ToList();
                var faultsFile = Path.Combine(dir, DevnetFaultsFile);
                var faults = File.Exists(faultsFile)
                    ? JsonSerializer.Deserialize<DevnetFaultReport>(await File.ReadAllTextAsync(faultsFile, cancellationToken).ConfigureAwait(false), JsonOutput.Options)
                    : null;
                report = await new DevnetReporter(rpc, chain, miners).BuildAsync(null, faults, null, cancellationToken).ConfigureAwait(false);
            }
            catch (ChainUnavailableException)
            {
                // The devnet has stopped (its chain with it): the summary it wrote when it stopped is the record.
                var saved = Path.Combine(dir, "report.json");
                if (!File.Exists(saved))
                {
                    await Console.Error.WriteLineAsync($"zkpow devnet report: the devnet's chain is gone and '{saved}' does not exist").ConfigureAwait(false);
                    return 1;
                }

                report = JsonSerializer.Deserialize<DevnetReport>(await File.ReadAllTextAsync(saved, cancellationToken).ConfigureAwait(false), JsonOutput.Options);
            }
            catch (OptionsException ex)
            {
                await Console.Error.WriteLineAsync($"zkpow devnet report: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            if (parse.GetValue(json))
            {
                JsonOutput.Write(report);
            }
            else
            {
                PrintSummary(report!);
            }

            return 0;
        });
        return command;
    }

    private static void PrintStart(IAnsiConsole console, DevnetNetwork network)
    {
        console.MarkupLine($"[green]devnet up[/]: anvil {network.Chain.RpcUrl} (chain {network.Chain.ChainId}, PID {network.Chain.ProcessId}), rollup node {network.RollupNode.Url}, data {Markup.Escape(network.DataDir)}");
        if (network.Postgres is { } postgres)
        {
            console.MarkupLine($"  PostgreSQL {Markup.Escape(postgres.Folder)} on port {postgres.Port} (PID {postgres.ServerPid})");
        }

        foreach (var miner in network.Miners)
        {
            if (miner.Replicas.Count > 0)
            {
                console.MarkupLine($"  miner {miner.Index} {miner.Address}: {miner.Replicas.Count} replicas, operator token in {Markup.Escape(miner.OperatorTokenPath ?? "")}");
                foreach (var replica in miner.Replicas)
                {
                    console.MarkupLine($"    {replica.Id} (PID {replica.Pid}): provers dial {replica.ProverPort}, status {replica.StatusAddress}api/status, log {Markup.Escape(replica.LogPath)}");
                }

                continue;
            }

            var where = miner.Host is null
                ? $"external aggregator: zkpow run --config {Markup.Escape(miner.ConfigPath)}"
                : $"provers dial {miner.Host.Node.ProverPort}, status {miner.Host.StatusAddress}api/status";
            console.MarkupLine($"  miner {miner.Index} {miner.Address}: {where}");
            console.MarkupLine($"    dashboard {(miner.Host is null ? "on the aggregator's HTTP port" : miner.Host.StatusAddress.ToString())}, operator token in {Markup.Escape(miner.OperatorTokenPath ?? "")}");
        }
    }

    /// <summary>A stall must last this long, unchanged, before --exit-when-done gives up on the run.</summary>
    private static readonly TimeSpan StallSettle = TimeSpan.FromSeconds(15);

    /// <summary>Shows progress until stopped or, with --exit-when-done, until the run is done or has stalled (nothing left
    /// can make progress, unchanged for <see cref="StallSettle"/>). Returns whether it finished, and the stall.</summary>
    private static async Task<(bool Finished, DevnetStall? Stall)> WatchAsync(IAnsiConsole console, DevnetNetwork network, bool exitWhenDone, bool live,
        CancellationToken cancellationToken)
    {
        var finished = false;
        DevnetStall? stalled = null;
        DevnetStall? stall = null;
        var stallSince = System.Diagnostics.Stopwatch.StartNew();
        async Task LoopAsync(Action<DevnetProgress> show)
        {
            var lastPrint = DateTime.MinValue;
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    var progress = await DevnetProgress.ReadAsync(network, cancellationToken).ConfigureAwait(false);
                    var faultsFile = Path.Combine(network.DataDir, DevnetFaultsFile);
                    await File.WriteAllTextAsync(faultsFile + ".tmp", JsonSerializer.Serialize(progress.Faults, JsonOutput.Options), CancellationToken.None)
                        .ConfigureAwait(false);
                    File.Move(faultsFile + ".tmp", faultsFile, overwrite: true);
                    if (live || DateTime.UtcNow - lastPrint > TimeSpan.FromSeconds(5))
                    {
                        show(progress);
                        lastPrint = DateTime.UtcNow;
                    }

                    if (exitWhenDone && await network.IsDoneAsync(cancellationToken).ConfigureAwait(false))
                    {
                        show(progress);
                        finished = true;
                        return;
                    }

                    if (exitWhenDone)
                    {
                        // A stall counts only once it has lasted, unchanged: a transient state (a task between two
                        // provers, a requeue) does not end the run.
                        var now = await network.ReadStallAsync(cancellationToken).ConfigureAwait(false);
                        if (now is null || now.Fingerprint != stall?.Fingerprint)
                        {
                            stallSince.Restart();
                        }

                        stall = now;
                        if (stall is not null && stallSince.Elapsed >= StallSettle)
                        {
                            show(progress);
                            stalled = stall;
                            return;
                        }
                    }

                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is ChainUnavailableException or EthRpcException or InvalidOperationException or OperationCanceledException)
                {
                    console.MarkupLine($"[yellow]progress unavailable:[/] {Markup.Escape(ex.Message)}");
                    await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None).ConfigureAwait(false);
                }
            }
        }

        if (live)
        {
            await console.Live(new Text("…")).AutoClear(false).StartAsync(async context =>
                await LoopAsync(p =>
                {
                    context.UpdateTarget(p.ToTable());
                    context.Refresh();
                }).ConfigureAwait(false)).ConfigureAwait(false);
        }
        else
        {
            await LoopAsync(p => Console.Error.WriteLine(p.ToLine())).ConfigureAwait(false);
        }

        return (finished, stalled);
    }

    private static void PrintSummary(DevnetReport report)
    {
        Console.Out.WriteLine($"""
            Sequences: {report.SequencesSequenced} sequenced, {report.SequencesVerified} verified; latency p50 {report.SequenceLatencyP50Blocks} blocks ({report.SequenceLatencyP50Ms} ms), p99 {report.SequenceLatencyP99Blocks} blocks
            Proofs: {string.Join(", ", report.ProofsGenerated.Select(p => $"{p.Value} {p.Key}"))}; tasks retried {report.TasksRetried}
            Transactions: {report.TxsSent} sent, {report.TxsFailed} failed; hash broadcast p99 {report.HashBroadcastP99Ms} ms over {report.HashBroadcastSamples} (first after start-up {report.HashBroadcastFirstMs} ms); reveal delay max {report.RevealDelayBlocksMax} blocks
            Rewards: {Eth(report.RewardsWei)} ETH; slashes: {report.Slashes}; commitments overdue (slash pending): {report.CommitmentsOverdue}, open {report.CommitmentsOpen}
            Provers: {(report.BadProvers is { Count: > 0 } bad ? string.Join(", ", bad.Select(b => $"{b.Name} {b.Behaviour}")) : "none bad")}; invalid proofs committed {report.InvalidProofsCommitted}; parked: {report.ParkedTasks} tasks, {report.ParkedSequences} sequences{(report.Stalled is { } why ? $"; STALLED: {why}" : "")}
            Replicas: {(report.Replicas is { } r ? $"{r.Count} per miner; {r.Kills} kills ({r.LeaderKills} of the leader), {r.Restarts} restarts, {r.UnexpectedExits} unexpected exits" : "none (in-process aggregator)")}; final proofs requested more than once: {(report.FinalProofsRequestedTwice is { } twice ? twice.Count == 0 ? "none" : string.Join(", ", twice.Select(t => $"{t.InitBatch}-{t.FinalBatch} x{t.Requests} ({t.Cancels} cancelled)")) : "not known")}{(report.DurationSeconds is { } seconds ? $"; run took {seconds} s" : "")}
            Faults: {report.Faults.InjectedTotal} injected ({string.Join(", ", report.Faults.Injected.Where(f => f.Value > 0).Select(f => $"{f.Value} {f.Key}"))}) over {report.Faults.ProxiedRequests} proxied requests; {report.Faults.Reorgs} reorgs ({report.Faults.ReorgedBlocks} blocks, {report.Faults.SequencesResent} sequences re-sent); outage {report.Faults.OutageSeconds} s
            """);
        foreach (var miner in report.Miners)
        {
            Console.Out.WriteLine($"  {miner.Address}: {miner.HashesCommitted} hashes, {miner.ProofsRevealed} reveals ({miner.LateReveals} late), {Eth(miner.RewardsWei)} ETH, {miner.Slashes} slashes, {miner.CommitmentsOverdue} overdue, {miner.SequencesLostToCompetition} lost to competition");
            Console.Out.WriteLine($"    nonces: {miner.NonceCount} used, {(miner.NoncesContiguous ? "contiguous" : "NOT contiguous: " + string.Join("; ", miner.NonceProblems))}; no-op cancels {miner.NoopCancels}; " +
                $"sequences with one hash and one reveal: {miner.SequencesWithOneHashAndReveal}{(miner.SequencesWithOtherCounts.Count > 0 ? "; OTHER COUNTS (final batch: hashes/reveals): " + string.Join(", ", miner.SequencesWithOtherCounts.Select(c => $"{c.FinalBatch}: {c.SubmitProofHash}/{c.VerifyBatches}")) : "")}");
            var gas = miner.Gas;
            Console.Out.WriteLine($"    gas: {gas.Txs} txs ({gas.TxsReverted} reverted; {string.Join(", ", gas.TxsByKind.Select(k => $"{k.Value} {k.Key}"))}), {gas.GasUsed} gas, {Eth(gas.EthSpentWei)} ETH; per verified sequence {gas.GasPerVerifiedSequence} gas vs bare {gas.BareGasPerSequence} ({gas.BareSubmitProofHashGas} + {gas.BareVerifyBatchesGas}), ratio {gas.GasRatio}");
        }
    }

    private static string Eth(string wei) => ((decimal)BigInteger.Parse(wei, System.Globalization.CultureInfo.InvariantCulture) / 1_000_000_000_000_000_000m).ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);
}
