using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Rollup;
using ZkPow.Devnet.Tests.Chain;

namespace ZkPow.Cli.Tests;

/// <summary>
/// <c>zkpow run</c> as a real process at start-up and shutdown: a base chain or rollup node that is down is waited
/// for (the operator endpoint answers 503 naming it), a definite contradiction of the configuration stops the process
/// with exit 2 naming the key, and SIGTERM / SIGINT by PID stop it cleanly with 143 / 130. Never a stack trace.
/// </summary>
public sealed partial class RunStartupTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task run_waits_for_a_base_chain_that_is_down_at_start_and_proves_once_it_is_up()
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 1, T1 = 2, T2 = 5 });
        var ledger = new DevnetRollupLedger();
        await using var node = await DevnetRollupNode.StartAsync(ledger, new DevnetRollupNodeOptions());
        await using var proxy = new TcpProxy(new Uri(chain.RpcUrl).Port); // closed: the chain is unreachable
        var httpPort = ChildProcess.FreePort();
        var path = WriteConfig(dir, Config(dir, chain, proxy.Url, node.Url, httpPort));
        using var run = ChildProcess.Zkpow("run", "--config", path, "--Sync:PollInterval=200ms");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/") };

        // Several failed attempts, each logged, while the endpoint says what start-up waits for.
        var waiting = await WaitNotReadyAsync(http, run, "eth_chainId");
        Assert.Contains(proxy.Url, waiting);
        await WaitForAsync(() => AttemptWarnings(run.Stderr, "eth_chainId") >= 3, run, "three logged attempts");
        Assert.False(run.HasExited, run.Stderr);
        using (var status = await http.GetAsync("api/status"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status.StatusCode);
        }

        proxy.Start();
        var started = await WaitStartedAsync(run);
        await WaitForAsync(async () => (await http.GetAsync("health/ready")).IsSuccessStatusCode, run, "ready");

        // And it works: a sequence is proved, committed, revealed and verified through the proxy.
        var sequencer = new DevnetSequencer(chain, new DevnetSequencerOptions { MaxBatchesPerSequence = 2, BatchDataSize = 256 }, ledger, TimeProvider.System);
        var sequence = await sequencer.SequenceNextAsync();
        using var prover = ChildProcess.Zkpow("prover", "--aggregator", $"http://127.0.0.1:{started.Groups[1].Value}", "--name", "late-chain", "--latency", "20ms");
        await WaitForAsync(async () => (await chain.ReadAsync(chain.Contracts.Rollup, RollupCalls.LastVerifiedBatch())).UInt64(0) >= sequence.FinalNewBatch,
            run, $"sequence {sequence.FinalNewBatch} verified");
        AssertNoStackTrace(run.Stderr);
    }

    [Fact]
    public async Task run_waits_for_a_rollup_node_that_is_down_at_start()
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0 });
        await using var node = await DevnetRollupNode.StartAsync(new DevnetRollupLedger(), new DevnetRollupNodeOptions());
        await using var proxy = new TcpProxy(node.Port);
        var httpPort = ChildProcess.FreePort();
        var path = WriteConfig(dir, Config(dir, chain, chain.RpcUrl, proxy.Url, httpPort));
        using var run = ChildProcess.Zkpow("run", "--config", path);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/") };

        var waiting = await WaitNotReadyAsync(http, run, "zkevm_batchNumber");
        Assert.Contains(proxy.Url, waiting);
        await WaitForAsync(() => AttemptWarnings(run.Stderr, "zkevm_batchNumber") >= 2, run, "two logged attempts");

        proxy.Start();
        await WaitStartedAsync(run);
        await WaitForAsync(async () => (await http.GetAsync("health/ready")).IsSuccessStatusCode, run, "ready");
        var status = await http.GetFromJsonAsync<JsonElement>("api/status");
        Assert.Equal(chain.Miners[0].Address, status.GetProperty("minerAddress").GetString(), ignoreCase: true);
        AssertNoStackTrace(run.Stderr);
    }

    public enum Contradiction
    {
        ChainId,
        ForkId,
        NoCode,
        ForkIdReverts,
    }

    [Fact]
    public async Task run_waits_for_a_postgres_database_that_is_down_at_start_and_never_shows_its_password()
    {
        const string password = "pg-s3cret-never-shown";
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0 });
        await using var node = await DevnetRollupNode.StartAsync(new DevnetRollupLedger(), new DevnetRollupNodeOptions());
        var database = new Npgsql.NpgsqlConnectionStringBuilder(await PostgresCluster.NewDatabaseAsync());
        await using var proxy = new TcpProxy(database.Port); // closed: the database server is unreachable
        database.Port = proxy.Port;
        database.Password = password;
        var httpPort = ChildProcess.FreePort();
        var path = WriteConfig(dir, Config(dir, chain, chain.RpcUrl, node.Url, httpPort));
        using var run = ChildProcess.Zkpow("run", "--config", path, "--Store:Provider=postgres", $"--Store:ConnectionString={database.ConnectionString}");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/") };

        var waiting = await WaitNotReadyAsync(http, run, "the PostgreSQL database");
        Assert.Contains($"{database.Database} at 127.0.0.1:{proxy.Port}", waiting);
        await WaitForAsync(() => AttemptWarnings(run.Stderr, "the PostgreSQL database") >= 2, run, "two logged attempts");

        proxy.Start();
        await WaitStartedAsync(run);
        await WaitForAsync(async () => (await http.GetAsync("health/ready")).IsSuccessStatusCode, run, "ready");
        Assert.Equal(0, (await http.GetFromJsonAsync<JsonElement>("api/status")).GetProperty("finalProofs").GetInt32());
        Assert.DoesNotContain(password, run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(password, waiting, StringComparison.Ordinal);
        AssertNoStackTrace(run.Stderr);
    }

    [Fact]
    public async Task run_on_postgres_rides_out_a_database_outage_and_proves_what_was_sequenced_during_it()
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 1, T1 = 2, T2 = 5 });
        var ledger = new DevnetRollupLedger();
        await using var node = await DevnetRollupNode.StartAsync(ledger, new DevnetRollupNodeOptions());
        var database = new Npgsql.NpgsqlConnectionStringBuilder(await PostgresCluster.NewDatabaseAsync());
        await using var proxy = new TcpProxy(database.Port);
        proxy.Start();
        database.Port = proxy.Port;
        database.Timeout = 3;
        var httpPort = ChildProcess.FreePort();
        var path = WriteConfig(dir, Config(dir, chain, chain.RpcUrl, node.Url, httpPort));
        using var run = ChildProcess.Zkpow("run", "--config", path, "--Sync:PollInterval=200ms", "--Store:Provider=postgres",
            $"--Store:ConnectionString={database.ConnectionString}");
        var started = await WaitStartedAsync(run);
        using var prover = ChildProcess.Zkpow("prover", "--aggregator", $"http://127.0.0.1:{started.Groups[1].Value}", "--name", "steady", "--latency", "20ms");
        var sequencer = new DevnetSequencer(chain, new DevnetSequencerOptions { MaxBatchesPerSequence = 2, BatchDataSize = 256 }, ledger, TimeProvider.System);
        var first = await sequencer.SequenceNextAsync();
        await WaitForAsync(async () => (await chain.ReadAsync(chain.Contracts.Rollup, RollupCalls.LastVerifiedBatch())).UInt64(0) >= first.FinalNewBatch,
            run, $"sequence {first.FinalNewBatch} verified");

        // The database goes away (every connection cut, new ones refused) while the rollup sequences more.
        proxy.Stop();
        var second = await sequencer.SequenceNextAsync();
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.False(run.HasExited, run.Stderr);
        proxy.Start();

        await WaitForAsync(async () => (await chain.ReadAsync(chain.Contracts.Rollup, RollupCalls.LastVerifiedBatch())).UInt64(0) >= second.FinalNewBatch,
            run, $"sequence {second.FinalNewBatch} verified after the outage");
        Assert.False(run.HasExited, run.Stderr);
        AssertNoStackTrace(run.Stderr);
    }

    [Theory]
    [InlineData(Contradiction.ChainId, "'ExpectedChainId'", "chain id 31337, not 1")]
    [InlineData(Contradiction.ForkId, "'Provers:ForkId'", "forkID() is 6")]
    [InlineData(Contradiction.NoCode, "'Chain:RollupAddress'", "no code")]
    [InlineData(Contradiction.ForkIdReverts, "'Chain:RollupAddress'", "forkID() reverts")]
    public async Task a_definite_answer_that_contradicts_the_configuration_stops_start_up_with_exit_2_naming_the_key(Contradiction what, string key, string words)
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0 });
        await using var node = await DevnetRollupNode.StartAsync(new DevnetRollupLedger(), new DevnetRollupNodeOptions());
        var path = WriteConfig(dir, Config(dir, chain, chain.RpcUrl, node.Url, httpPort: 0,
            expectedChainId: what == Contradiction.ChainId ? 1UL : 31337UL,
            forkId: what == Contradiction.ForkId ? 7UL : 6UL,
            rollup: what switch
            {
                Contradiction.NoCode => chain.Miners[1].Address, // an account, not a contract
                Contradiction.ForkIdReverts => chain.Contracts.Verifier, // a contract with no forkID()
                _ => chain.Contracts.Rollup,
            }));
        using var run = ChildProcess.Zkpow("run", "--config", path);
        Assert.True(await run.WaitForExitAsync(Bound) == 2, run.Stderr);
        Assert.Contains(key, run.Stderr);
        Assert.Contains(words, run.Stderr);
        Assert.DoesNotContain("Start-up waits", run.Stderr); // a definite answer is not retried
        AssertNoStackTrace(run.Stderr);
    }

    public enum StopPoint
    {
        /// <summary>Start-up waits for a base chain that is down.</summary>
        WaitingAtStart,

        /// <summary>Running, a prover connected.</summary>
        Running,

        /// <summary>Running, then the base chain goes away: the parts' last calls fail while they stop.</summary>
        ChainGoneWhileRunning,
    }

    [Theory]
    [InlineData(15, 143, StopPoint.Running)]
    [InlineData(2, 130, StopPoint.Running)]
    [InlineData(15, 143, StopPoint.WaitingAtStart)]
    [InlineData(2, 130, StopPoint.WaitingAtStart)]
    [InlineData(15, 143, StopPoint.ChainGoneWhileRunning)]
    public async Task a_signal_by_pid_stops_run_cleanly_with_the_shell_exit_code(int signal, int exitCode, StopPoint when)
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0 });
        await using var node = await DevnetRollupNode.StartAsync(new DevnetRollupLedger(), new DevnetRollupNodeOptions());
        await using var proxy = new TcpProxy(new Uri(chain.RpcUrl).Port);
        var httpPort = ChildProcess.FreePort();
        var path = WriteConfig(dir, Config(dir, chain, proxy.Url, node.Url, httpPort));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/") };
        if (when == StopPoint.WaitingAtStart)
        {
            using var waiting = ChildProcess.Zkpow("run", "--config", path);
            await WaitNotReadyAsync(http, waiting, "eth_chainId");
            waiting.Signal(signal);
            Assert.True(await waiting.WaitForExitAsync(Bound) == exitCode, waiting.Stderr);
            AssertNoStackTrace(waiting.Stderr);
            return;
        }

        proxy.Start();
        using var run = ChildProcess.Zkpow("run", "--config", path);
        var started = await WaitStartedAsync(run);
        // A connected prover too: its stream is open when the stop begins.
        using var prover = ChildProcess.Zkpow("prover", "--aggregator", $"http://127.0.0.1:{started.Groups[1].Value}", "--name", "at-stop");
        await WaitForAsync(async () => (await http.GetFromJsonAsync<JsonElement>("api/status")).GetProperty("provers").GetArrayLength() == 1, run,
            "the prover connected");
        if (when == StopPoint.ChainGoneWhileRunning)
        {
            proxy.Stop();
            await WaitForAsync(async () => (await http.GetAsync("health/ready")).StatusCode == HttpStatusCode.ServiceUnavailable, run,
                "/health/ready 503 with the chain gone");
        }

        run.Signal(signal);
        Assert.True(await run.WaitForExitAsync(Bound) == exitCode, run.Stderr);
        AssertNoStackTrace(run.Stderr);
    }

    private static void AssertNoStackTrace(string stderr)
    {
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(StackFrame(), stderr);
    }

    private static int AttemptWarnings(string stderr, string what) =>
        stderr.Split('\n').Count(l => l.Contains("Start-up waits for", StringComparison.Ordinal) && l.Contains("(attempt ", StringComparison.Ordinal) &&
            l.Contains(what, StringComparison.Ordinal));

    /// <summary>Waits until <c>/health/ready</c> answers 503 naming <paramref name="waitingFor"/>; returns its body.</summary>
    private static async Task<string> WaitNotReadyAsync(HttpClient http, ChildProcess run, string waitingFor)
    {
        var body = "";
        await WaitForAsync(async () =>
        {
            try
            {
                using var ready = await http.GetAsync("health/ready");
                body = await ready.Content.ReadAsStringAsync();
                return ready.StatusCode == HttpStatusCode.ServiceUnavailable && body.Contains(waitingFor, StringComparison.Ordinal);
            }
            catch (HttpRequestException)
            {
                return false; // not listening yet
            }
        }, run, $"/health/ready answering 503 naming {waitingFor}");
        return body;
    }

    private static Task WaitForAsync(Func<bool> condition, ChildProcess run, string what) => WaitForAsync(() => Task.FromResult(condition()), run, what);

    private static async Task WaitForAsync(Func<Task<bool>> condition, ChildProcess run, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.False(run.HasExited, $"the aggregator exited while waiting for {what}: {run.Stderr}");
            Assert.True(watch.Elapsed < Bound, $"no {what} within {Bound}: {run.Stderr}");
            await Task.Delay(200);
        }
    }

    private static async Task<Match> WaitStartedAsync(ChildProcess run)
    {
        Match started = Match.Empty;
        await WaitForAsync(() => (started = Started().Match(run.Stderr)).Success, run, "the start line");
        return started;
    }

    private static string WriteConfig(TempDir dir, object config)
    {
        var path = dir.File("aggregator.json");
        File.WriteAllText(path, JsonSerializer.Serialize(config));
        return path;
    }

    private static object Config(TempDir dir, DevChain chain, string rpcUrl, string rollupNodeUrl, int httpPort,
        ulong expectedChainId = 31337, ulong forkId = 6, string? rollup = null) => new
        {
            Sync = new { RollupNodeUrl = rollupNodeUrl, Confirmations = 0 },
            Store = new { SqlitePath = dir.File("aggregator.db") },
            Provers = new { Port = 0, ForkId = forkId },
            Http = new { Port = httpPort },
            Chain = new { RpcUrl = rpcUrl, RollupAddress = rollup ?? chain.Contracts.Rollup, RequestTimeout = "3s", CallBudget = "2s" },
            ExpectedChainId = expectedChainId,
            Key = new { DevPrivateKey = chain.Miners[0].PrivateKey },
            TxManager = new { Confirmations = 1 },
            Health = new { UnreachableGrace = "1s" },
        };

    [GeneratedRegex(@"provers dial port (\d+); status at (http://[^ ]+/)api/status")]
    private static partial Regex Started();

    /// <summary>A .NET stack frame line ("   at Namespace.Type.Method(...)").</summary>
    [GeneratedRegex(@"(?m)^\s+at \S+\(.*\)")]
    private static partial Regex StackFrame();
}
