using System.Diagnostics;
using System.Text.RegularExpressions;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Rollup;

namespace ZkPow.Cli.Tests;

/// <summary>deploy/prometheus/alerts.yml passes its promtool unit tests, and every metric that the rules and the Grafana
/// dashboard use is exported by a running aggregator.</summary>
public sealed partial class AlertRulesTests
{
    private static string Deploy(params string[] parts) =>
        Path.Combine([NodeTools.FindRepoRoot() ?? throw new InvalidOperationException("no repository above " + AppContext.BaseDirectory), "deploy", .. parts]);

    [Fact]
    public async Task promtool_accepts_the_rules_and_every_alert_unit_test_passes()
    {
        var promtool = await DebianPackages.RequireAsync("prometheus", "promtool");
        var check = await RunAsync(promtool, "check", "rules", Deploy("prometheus", "alerts.yml"));
        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Contains("SUCCESS: 10 rules found", check.Output);

        var test = await RunAsync(promtool, "test", "rules", Deploy("prometheus", "alerts.test.yml"));
        Assert.True(test.ExitCode == 0, test.Output);
        Assert.Contains("SUCCESS", test.Output);

        // The unit tests can fail: an expectation the rules do not meet is reported.
        using var dir = new TempDir();
        File.Copy(Deploy("prometheus", "alerts.yml"), dir.File("alerts.yml"));
        var wrong = (await File.ReadAllTextAsync(Deploy("prometheus", "alerts.test.yml"))).Replace("is 2 blocks from", "is 3 blocks from", StringComparison.Ordinal);
        await File.WriteAllTextAsync(dir.File("alerts.test.yml"), wrong);
        var failing = await RunAsync(promtool, "test", "rules", dir.File("alerts.test.yml"));
        Assert.NotEqual(0, failing.ExitCode);
        Assert.Contains("ZkPowCommitmentNearRoundEnd", failing.Output);
    }

    [Fact]
    public async Task every_metric_the_rules_and_the_dashboard_use_is_in_a_live_scrape()
    {
        var used = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in new[] { Deploy("prometheus", "alerts.yml"), Deploy("grafana", "zkpow-aggregator.json") })
        {
            foreach (Match name in MetricName().Matches(await File.ReadAllTextAsync(file)))
            {
                used.Add(name.Value);
            }
        }

        Assert.Contains("zkpow_aggregator_funds_miner_stake", used);
        Assert.Contains("zkpow_aggregator_generator_provers_connected", used);
        Assert.Contains("zkpow_aggregator_sender_commitment_blocks_left", used);

        // A real aggregator that proves, commits and reveals one sequence, so every counter and histogram has a sample.
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 1, T1 = 2, T2 = 5 });
        var ledger = new DevnetRollupLedger();
        await using var node = await DevnetRollupNode.StartAsync(ledger, new DevnetRollupNodeOptions());
        await new DevnetSequencer(chain, new DevnetSequencerOptions { MaxBatchesPerSequence = 2, BatchDataSize = 256 }, ledger, TimeProvider.System)
            .SequenceNextAsync();
        var config = dir.File("aggregator.json");
        await File.WriteAllTextAsync(config, System.Text.Json.JsonSerializer.Serialize(new
        {
            Sync = new { RollupNodeUrl = node.Url, Confirmations = 0, PollInterval = "200ms" },
            Store = new { SqlitePath = dir.File("aggregator.db") },
            Provers = new { Port = 0, ForkId = 6 },
            Http = new { Port = 0 },
            Chain = new { chain.RpcUrl, RollupAddress = chain.Contracts.Rollup },
            ExpectedChainId = 31337,
            Key = new { DevPrivateKey = chain.Miners[0].PrivateKey },
            TxManager = new { Confirmations = 1 },
            Sender = new { FundsInterval = "1s" },
        }));
        using var run = ChildProcess.Zkpow("run", "--config", config);
        var watch = Stopwatch.StartNew();
        Match started;
        while (!(started = Started().Match(run.Stderr)).Success)
        {
            Assert.False(run.HasExited, run.Stderr);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), "the aggregator did not start: " + run.Stderr);
            await Task.Delay(100);
        }

        using var prover = ChildProcess.Zkpow("prover", "--aggregator", $"http://127.0.0.1:{started.Groups[1].Value}", "--name", "scrape", "--latency", "20ms");
        using var http = new HttpClient { BaseAddress = new Uri(started.Groups[2].Value) };
        // Names seen in any scrape count: a gauge such as commitment_blocks_left has a sample only while a commitment of
        // ours is open, which a scrape every 500 ms catches during the T1 blocks of the round.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string[] missing;
        var scrape = "";
        do
        {
            await Task.Delay(500);
            scrape = await http.GetStringAsync("metrics");
            seen.UnionWith(Exported().Matches(scrape).Select(m => m.Groups[1].Value));
            missing = [.. used.Where(n => !seen.Contains(n))];
        }
        while (missing.Length > 0 && watch.Elapsed < TimeSpan.FromMinutes(4));

        Assert.True(missing.Length == 0, $"not exported: {string.Join(", ", missing)}\n{scrape}\n{run.Stderr}");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"zkpow_aggregator_[a-z0-9_]+")]
    private static partial Regex MetricName();

    /// <summary>A sample line's metric name.</summary>
    [GeneratedRegex(@"(?m)^(zkpow_[a-z0-9_]+)[{ ]")]
    private static partial Regex Exported();

    [GeneratedRegex(@"provers dial port (\d+); status at (http://[^ ]+/)api/status")]
    private static partial Regex Started();
}
