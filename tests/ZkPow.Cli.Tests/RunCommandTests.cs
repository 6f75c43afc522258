using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Rollup;

namespace ZkPow.Cli.Tests;

public sealed partial class RunCommandTests
{
    private static string WriteConfig(TempDir dir, object config)
    {
        var path = dir.File("aggregator.json");
        File.WriteAllText(path, JsonSerializer.Serialize(config));
        return path;
    }

    [Theory]
    [InlineData("{\"Provers\":{\"Prot\":50081}}", "Provers:Prot", "unknown key")]
    [InlineData("{\"Provers\":{\"HeartbeatInterval\":\"soon\"}}", "Provers:HeartbeatInterval", "not a duration")]
    [InlineData("{\"Provers\":{\"HeartbeatInterval\":\"30s\"}}", "Provers:HeartbeatInterval", "at most 15s")]
    [InlineData("{\"Store\":{\"SqliteSynchronous\":\"OFF\"}}", "Store:SqliteSynchronous", "FULL")]
    [InlineData("{\"Metrix\":{}}", "Metrix", "unknown section")]
    [InlineData("{\"Chain\":{\"RollupAddress\":\"0x1234\"}}", "Chain:RollupAddress", "")]
    [InlineData("{\"Chain\":{\"RollupAddress\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\"},\"Key\":{\"KeystorePath\":\"/nonexistent/key.json\",\"PasswordEnvironmentVariable\":\"ZKPOW_TEST_NO_SUCH_VARIABLE\"}}", "Key:", "")]
    [InlineData("{\"Sync\":{\"Confirmations\":\"-3\"}}", "Sync:Confirmations", "whole number")]
    [InlineData("{\"Chain\":{\"RpcUrls\":[\"http://127.0.0.1:8545\",\"ftp://node\"]}}", "Chain:RpcUrls", "not an http(s) URL")]
    [InlineData("{\"Chain\":{\"RpcUrls\":{\"a\":{\"b\":1}}}}", "Chain:RpcUrls", "must be a list")]
    [InlineData("{\"Chain\":{\"RollupAddress\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\"},\"Key\":{\"DevPrivateKey\":\"0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d\"},\"Sync\":{\"RollupNodeUrls\":[\"http://127.0.0.1:8123\",\"nope\"]}}", "Sync:RollupNodeUrls", "not an http(s) URL")]
    public async Task a_bad_configuration_is_refused_with_a_message_that_names_the_key(string json, string key, string words)
    {
        using var dir = new TempDir();
        var path = dir.File("bad.json");
        await File.WriteAllTextAsync(path, json);
        using var run = ChildProcess.Zkpow("run", "--config", path, "--Http:Port=0");
        Assert.Equal(2, await run.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains($"'{key}", run.Stderr);
        Assert.Contains(words, run.Stderr);
    }

    [Fact]
    public async Task run_refuses_a_rollup_whose_fork_id_is_not_the_configured_one()
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0 });
        await using var node = await DevnetRollupNode.StartAsync(new DevnetRollupLedger(), new DevnetRollupNodeOptions());
        var path = WriteConfig(dir, Config(dir, chain, node, forkId: 7));
        using var run = ChildProcess.Zkpow("run", "--config", path);
        Assert.Equal(2, await run.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("'Provers:ForkId'", run.Stderr);
        Assert.Contains("forkID() is 6", run.Stderr);
    }

    [Fact]
    public async Task a_running_aggregator_serves_health_metrics_and_a_status_that_zkpow_status_agrees_with()
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0 });
        await using var node = await DevnetRollupNode.StartAsync(new DevnetRollupLedger(), new DevnetRollupNodeOptions());
        var path = WriteConfig(dir, Config(dir, chain, node, forkId: 6));
        using var run = ChildProcess.Zkpow("run", "--config", path, "--Generator:MaxAttempts=4");
        var watch = Stopwatch.StartNew();
        Match? started = null;
        while (started is null || !started.Success)
        {
            Assert.False(run.HasExited, run.Stderr);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), "the aggregator did not start: " + run.Stderr);
            await Task.Delay(100);
            started = Started().Match(run.Stderr);
        }

        var proverPort = started.Groups[1].Value;
        var url = new Uri(started.Groups[2].Value);
        using var prover = ChildProcess.Zkpow("prover", "--aggregator", $"http://127.0.0.1:{proverPort}", "--name", "status-probe");
        using var http = new HttpClient { BaseAddress = url };
        JsonElement status = default;
        while (watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            status = await http.GetFromJsonAsync<JsonElement>("api/status");
            if (status.GetProperty("provers").GetArrayLength() == 1)
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.Equal("status-probe", status.GetProperty("provers")[0].GetProperty("name").GetString());
        Assert.Equal(chain.Miners[0].Address, status.GetProperty("minerAddress").GetString(), ignoreCase: true);
        Assert.Equal("live\n", await http.GetStringAsync("health/live"));
        using (var ready = await http.GetAsync("health/ready"))
        {
            Assert.True(ready.IsSuccessStatusCode, await ready.Content.ReadAsStringAsync());
        }

        // Observable instruments appear once the exporter has read them.
        var metrics = "";
        var connected = ConnectedMetric();
        while (!connected.IsMatch(metrics) && watch.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(200);
            metrics = await http.GetStringAsync("metrics");
        }

        Assert.Matches(connected, metrics);

        using var cli = ChildProcess.Zkpow("status", "--url", url.ToString(), "--json");
        Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        using var printed = JsonDocument.Parse(cli.Stdout);
        Assert.Equal(status.GetProperty("minerAddress").GetString(), printed.RootElement.GetProperty("minerAddress").GetString());
        Assert.Equal(1, printed.RootElement.GetProperty("provers").GetArrayLength());

        using var parked = ChildProcess.Zkpow("tasks", "list", "--parked", "--url", url.ToString(), "--json");
        Assert.Equal(0, await parked.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal(0, JsonDocument.Parse(parked.Stdout).RootElement.GetProperty("tasks").GetArrayLength());
    }

    [Fact]
    public async Task a_running_aggregator_proves_and_gets_verified_what_the_rollup_sequences()
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 1, T1 = 2, T2 = 5 });
        var ledger = new DevnetRollupLedger();
        await using var node = await DevnetRollupNode.StartAsync(ledger, new DevnetRollupNodeOptions());
        var sequencer = new DevnetSequencer(chain, new DevnetSequencerOptions { MaxBatchesPerSequence = 4, BatchDataSize = 512 }, ledger, TimeProvider.System);
        for (var i = 0; i < 3; i++)
        {
            await sequencer.SequenceNextAsync();
        }

        var path = WriteConfig(dir, Config(dir, chain, node, forkId: 6));
        using var run = ChildProcess.Zkpow("run", "--config", path, "--Sync:PollInterval=200ms");
        var started = await WaitStartedAsync(run);
        using var http = new HttpClient { BaseAddress = new Uri(started.Groups[2].Value) };
        var before = await http.GetStringAsync("metrics");
        using var prover = ChildProcess.Zkpow("prover", "--aggregator", $"http://127.0.0.1:{started.Groups[1].Value}", "--name", "e2e", "--latency", "20ms");
        var watch = Stopwatch.StartNew();
        var last = ledger.LastBatch;
        var verified = 0UL;
        while (verified < last && watch.Elapsed < TimeSpan.FromSeconds(90))
        {
            await Task.Delay(500);
            verified = (await chain.ReadAsync(chain.Contracts.Rollup, ContractCalls.LastVerifiedBatch())).UInt64(0);
        }

        Assert.True(verified == last, $"verified up to batch {verified} of {last}; aggregator said: {run.Stderr}");
        var status = await http.GetFromJsonAsync<JsonElement>("api/status");
        Assert.Equal(3, status.GetProperty("finalProofs").GetInt32());
        var after = await http.GetStringAsync("metrics");
        Assert.Equal(0, MetricSum(before, "zkpow_aggregator_sender_proof_txs"));
        Assert.True(MetricSum(after, "zkpow_aggregator_sender_proof_txs") >= 3, after);
        Assert.True(MetricSum(after, "zkpow_aggregator_sender_hash_txs") >= 3, after);
        Assert.Equal(3, MetricSum(after, "zkpow_aggregator_sync_sequences_synced"));
    }

    /// <summary>The sum of a metric's samples (all label sets) in Prometheus text.</summary>
    private static double MetricSum(string text, string name) => text.Split('\n')
        .Where(l => l.StartsWith(name, StringComparison.Ordinal) && (l.Length > name.Length && (l[name.Length] == ' ' || l[name.Length] == '{')))
        .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task a_parked_task_is_listed_and_requeued_by_an_operator()
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0 });
        var ledger = new DevnetRollupLedger();
        await using var node = await DevnetRollupNode.StartAsync(ledger, new DevnetRollupNodeOptions());
        var sequencer = new DevnetSequencer(chain, new DevnetSequencerOptions { MaxBatchesPerSequence = 1, BatchDataSize = 256 }, ledger, TimeProvider.System);
        await sequencer.SequenceNextAsync();
        var path = WriteConfig(dir, Config(dir, chain, node, forkId: 6));
        using var run = ChildProcess.Zkpow("run", "--config", path, "--Sync:PollInterval=200ms", "--Generator:MaxAttempts=1");
        var started = await WaitStartedAsync(run);
        var url = started.Groups[2].Value;
        var prover = $"http://127.0.0.1:{started.Groups[1].Value}";
        JsonElement parked = default;
        using (ChildProcess.Zkpow("prover", "--aggregator", prover, "--name", "broken", "--failure-rate", "1"))
        {
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(300);
                using var list = ChildProcess.Zkpow("tasks", "list", "--parked", "--url", url, "--json");
                Assert.Equal(0, await list.WaitForExitAsync(TimeSpan.FromMinutes(1)));
                parked = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("tasks").Clone();
                if (parked.GetArrayLength() == 1)
                {
                    break;
                }
            }
        }

        var task = Assert.Single(parked.EnumerateArray());
        Assert.Contains("RESULT_COMPLETED_ERROR", task.GetProperty("lastError").GetString());

        // Parked work leaves the aggregator ready, and degraded.
        using (var health = new HttpClient { BaseAddress = new Uri(url) })
        using (var ready = await health.GetAsync("health/ready"))
        {
            var body = await ready.Content.ReadAsStringAsync();
            Assert.True(ready.IsSuccessStatusCode, body);
            using var document = JsonDocument.Parse(body);
            Assert.Equal("degraded", document.RootElement.GetProperty("status").GetString());
            Assert.Contains("1 parked task", document.RootElement.GetProperty("checks").GetProperty("parked").GetString());
        }
        using var good = ChildProcess.Zkpow("prover", "--aggregator", prover, "--name", "healthy");
        using var requeue = ChildProcess.Zkpow("tasks", "requeue", task.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture), "--url", url);
        Assert.True(await requeue.WaitForExitAsync(TimeSpan.FromMinutes(1)) == 0, requeue.Stderr);
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        var finals = 0;
        var wait = Stopwatch.StartNew();
        while (finals < 1 && wait.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(200);
            finals = (await http.GetFromJsonAsync<JsonElement>("api/status")).GetProperty("finalProofs").GetInt32();
        }

        Assert.Equal(1, finals);
        using var afterRequeue = await http.GetAsync("health/ready");
        using var healthy = JsonDocument.Parse(await afterRequeue.Content.ReadAsStringAsync());
        Assert.Equal("healthy", healthy.RootElement.GetProperty("status").GetString());
    }

    private static async Task<Match> WaitStartedAsync(ChildProcess run)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var started = Started().Match(run.Stderr);
            if (started.Success)
            {
                return started;
            }

            Assert.False(run.HasExited, run.Stderr);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), "the aggregator did not start: " + run.Stderr);
            await Task.Delay(100);
        }
    }

    private static object Config(TempDir dir, DevChain chain, DevnetRollupNode node, ulong forkId) => new
    {
        Sync = new { RollupNodeUrl = node.Url, Confirmations = 0 },
        Store = new { SqlitePath = dir.File("aggregator.db") },
        Provers = new { Port = 0, ForkId = forkId },
        Http = new { Port = 0 },
        Chain = new { RpcUrl = chain.RpcUrl, RollupAddress = chain.Contracts.Rollup },
        ExpectedChainId = 31337,
        Key = new { DevPrivateKey = chain.Miners[0].PrivateKey },
        TxManager = new { Confirmations = 1 },
    };

    [GeneratedRegex(@"(?m)^zkpow_aggregator_generator_provers_connected 1$")]
    private static partial Regex ConnectedMetric();

    [GeneratedRegex(@"provers dial port (\d+); status at (http://[^ ]+/)api/status")]
    private static partial Regex Started();
}
