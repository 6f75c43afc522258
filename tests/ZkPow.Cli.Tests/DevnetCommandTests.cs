using System.Numerics;
using System.Text.Json;

namespace ZkPow.Cli.Tests;

/// <summary>The devnet in one command, run as the real executable, its stdout parsed as JSON.</summary>
public sealed class DevnetCommandTests
{
    private static readonly string[] s_fast = ["--t1", "2", "--t2", "5", "--provers", "4", "--prover-latency", "20ms", "--max-batches", "4"];

    [Fact]
    public async Task the_devnet_verifies_every_sequence_without_a_slash_and_reports_it_as_one_json_object()
    {
        using var dir = new TempDir();
        var data = dir.File("devnet");
        using var devnet = ChildProcess.Zkpow(["devnet", .. s_fast, "--sequences", "4", "--exit-when-done", "--json", "--data-dir", data]);
        Assert.True(await devnet.WaitForExitAsync(TimeSpan.FromMinutes(3)) == 0, devnet.Stderr);
        using var json = JsonDocument.Parse(devnet.Stdout);
        var report = json.RootElement;
        Assert.Equal(4, report.GetProperty("sequencesVerified").GetInt32());
        Assert.Equal(0, report.GetProperty("slashes").GetInt32());
        Assert.Equal(0, report.GetProperty("txsFailed").GetInt32());
        Assert.Equal(4, report.GetProperty("proofsGenerated").GetProperty("final").GetInt64());
        var miner = Assert.Single(report.GetProperty("miners").EnumerateArray());
        Assert.Equal(BigInteger.Parse("4000000000000000000"), BigInteger.Parse(miner.GetProperty("rewardsWei").GetString()!));
        Assert.Equal(4, miner.GetProperty("hashesCommitted").GetInt32());
        Assert.True(report.GetProperty("revealDelayBlocksMax").GetInt64() <= 1);

        // The chain is gone with the devnet: the report is the summary it saved.
        using var again = ChildProcess.Zkpow("devnet", "report", "--data-dir", data, "--json");
        Assert.Equal(0, await again.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal(4, JsonDocument.Parse(again.Stdout).RootElement.GetProperty("sequencesVerified").GetInt32());
    }

    [Fact]
    public async Task two_competing_miners_are_both_paid_and_neither_is_slashed()
    {
        using var dir = new TempDir();
        using var devnet = ChildProcess.Zkpow(["devnet", .. s_fast, "--sequences", "4", "--miners", "2", "--exit-when-done", "--json", "--data-dir", dir.File("devnet")]);
        Assert.True(await devnet.WaitForExitAsync(TimeSpan.FromMinutes(3)) == 0, devnet.Stderr);
        using var json = JsonDocument.Parse(devnet.Stdout);
        Assert.Equal(4, json.RootElement.GetProperty("sequencesVerified").GetInt32());
        var miners = json.RootElement.GetProperty("miners").EnumerateArray().ToList();
        Assert.Equal(2, miners.Count);
        Assert.All(miners, m =>
        {
            Assert.True(BigInteger.Parse(m.GetProperty("rewardsWei").GetString()!) > 0, $"{m} earned nothing");
            Assert.Equal(0, m.GetProperty("slashes").GetInt32());
        });
    }

    [Fact]
    public async Task an_external_aggregator_killed_and_restarted_still_gets_every_sequence_verified_without_a_slash()
    {
        using var dir = new TempDir();
        var data = dir.File("devnet");
        using var devnet = ChildProcess.Zkpow(["devnet", .. s_fast, "--sequences", "5", "--external-aggregator", "--data-dir", data]);
        var config = Path.Combine(data, "aggregator.json");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!devnet.Stderr.Contains("external aggregator", StringComparison.Ordinal))
        {
            Assert.False(devnet.HasExited, devnet.Stderr);
            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(1), "the devnet did not start: " + devnet.Stderr);
            await Task.Delay(200);
        }

        var random = new Random(5);
        for (var kill = 0; kill < 3; kill++)
        {
            using var aggregator = ChildProcess.Zkpow("run", "--config", config);
            await Task.Delay(random.Next(2500, 5000));
            Assert.False(aggregator.HasExited, aggregator.Stderr);
            aggregator.Kill();
        }

        using (var final = ChildProcess.Zkpow("run", "--config", config))
        {
            JsonElement report = default;
            while (watch.Elapsed < TimeSpan.FromMinutes(3))
            {
                await Task.Delay(1000);
                using var look = ChildProcess.Zkpow("devnet", "report", "--data-dir", data, "--json");
                if (await look.WaitForExitAsync(TimeSpan.FromMinutes(1)) != 0)
                {
                    continue;
                }

                report = JsonDocument.Parse(look.Stdout).RootElement.Clone();
                if (report.GetProperty("sequencesVerified").GetInt32() == 5 && report.GetProperty("sequencesSequenced").GetInt32() == 5)
                {
                    break;
                }
            }

            Assert.True(report.GetProperty("sequencesVerified").GetInt32() == 5, $"{report}\n{final.Stderr}");
            Assert.Equal(0, report.GetProperty("slashes").GetInt32());
            await final.TerminateAsync(TimeSpan.FromSeconds(30));
        }

        // Stopped like an operator would (SIGTERM), the devnet takes its chain down with it.
        await devnet.TerminateAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("devnet up", devnet.Stderr);
    }
}
