using System.Numerics;
using System.Text.Json;

namespace ZkPow.Cli.Tests;

/// <summary>The devnet in one command, run as the real executable, its stdout parsed as JSON.</summary>
[Collection(DevnetCollection.Name)]
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
        Assert.Equal(0, report.GetProperty("commitmentsOverdue").GetInt32());
        Assert.Equal(0, report.GetProperty("commitmentsOpen").GetInt32());
        Assert.Equal(0, report.GetProperty("faults").GetProperty("proxies").GetInt32());

        // Gas: every tx of the miner, per verified sequence, next to one bare submitProofHash + verifyBatches.
        var gas = miner.GetProperty("gas");
        Assert.Equal(4, gas.GetProperty("txsByKind").GetProperty("submitProofHash").GetInt32());
        Assert.Equal(4, gas.GetProperty("txsByKind").GetProperty("verifyBatches").GetInt32());
        Assert.Equal(1, gas.GetProperty("stakeTxs").GetInt32());
        var bare = gas.GetProperty("bareSubmitProofHashGas").GetInt64() + gas.GetProperty("bareVerifyBatchesGas").GetInt64();
        Assert.Equal(bare, gas.GetProperty("bareGasPerSequence").GetInt64());
        Assert.Equal(gas.GetProperty("gasUsed").GetInt64() / 4.0, gas.GetProperty("gasPerVerifiedSequence").GetDouble(), 1);
        Assert.InRange(gas.GetProperty("gasRatio").GetDouble(), 0.8, 1.5);
        // Inside the proof window (--t2 5); how soon after it opens is a figure of the run, not a test bound.
        Assert.InRange(report.GetProperty("revealDelayBlocksMax").GetInt64(), 0, 5);

        // Hash broadcasts: the first after start-up on its own, the others as p50/p99, and a p99 over them all. With
        // fewer than 100 samples the nearest-rank p99 is the largest, so the p99 over all is the larger of the two.
        var others = report.GetProperty("hashBroadcastSamples").GetInt32();
        Assert.Equal(others + 1, report.GetProperty("hashBroadcastWithFirstSamples").GetInt32());
        var first = report.GetProperty("hashBroadcastFirstMs").GetDouble();
        var withFirst = report.GetProperty("hashBroadcastWithFirstP99Ms").GetDouble();
        Assert.Equal(others > 0 ? Math.Max(first, report.GetProperty("hashBroadcastP99Ms").GetDouble()) : first, withFirst, 3);

        // The chain is gone with the devnet: the report is the summary it saved.
        using var again = ChildProcess.Zkpow("devnet", "report", "--data-dir", data, "--json");
        Assert.Equal(0, await again.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal(4, JsonDocument.Parse(again.Stdout).RootElement.GetProperty("sequencesVerified").GetInt32());
    }

    [Fact]
    public async Task bad_provers_are_reported_and_every_sequence_is_verified_without_a_slash_or_an_invalid_proof_committed()
    {
        // Behaviours the generator copes with on its own; a prover PENDING forever or failing every job needs the
        // generator's maximum job time and prover health.
        using var dir = new TempDir();
        using var devnet = ChildProcess.Zkpow(["devnet", "--t1", "2", "--t2", "5", "--provers", "5", "--prover-latency", "20ms", "--max-batches", "4",
            "--bad-provers", "3", "--bad-behaviours", "Flapping", "WrongFinalProof", "JunkRecursiveProof", "--sequences", "3", "--exit-when-done", "--json",
            "--timeout", "150s", "--data-dir", dir.File("devnet")]);
        Assert.True(await devnet.WaitForExitAsync(TimeSpan.FromMinutes(4)) == 0, devnet.Stderr);
        using var json = JsonDocument.Parse(devnet.Stdout);
        var report = json.RootElement;
        Assert.Equal(3, report.GetProperty("sequencesVerified").GetInt32());
        Assert.Equal(0, report.GetProperty("slashes").GetInt32());
        Assert.Equal(0, report.GetProperty("invalidProofsCommitted").GetInt32());
        Assert.Equal(0, report.GetProperty("parkedTasks").GetInt32());
        Assert.Equal(0, report.GetProperty("parkedSequences").GetInt32());
        Assert.Equal(JsonValueKind.Null, report.GetProperty("stalled").ValueKind);
        var bad = report.GetProperty("badProvers").EnumerateArray().Select(b => $"{b.GetProperty("name").GetString()} {b.GetProperty("behaviour").GetString()}");
        Assert.Equal(["miner1-gpu-01 Flapping", "miner1-gpu-02 WrongFinalProof", "miner1-gpu-03 JunkRecursiveProof"], bad);
    }

    [Fact]
    public async Task exit_when_done_ends_the_run_non_zero_with_the_report_once_everything_left_is_parked()
    {
        // The only prover fails every job: its tasks are parked and nothing left can make progress.
        using var dir = new TempDir();
        using var devnet = ChildProcess.Zkpow(["devnet", "--t1", "2", "--t2", "5", "--provers", "1", "--prover-latency", "20ms", "--max-batches", "4", "--bad-provers", "1", "--bad-behaviours", "FailEveryJob", "--sequences", "2",
            "--exit-when-done", "--json", "--timeout", "150s", "--data-dir", dir.File("devnet")]);
        Assert.True(await devnet.WaitForExitAsync(TimeSpan.FromMinutes(4)) == 1, devnet.Stderr);
        Assert.DoesNotContain("--timeout 150s reached", devnet.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing left can make progress", devnet.Stderr, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(devnet.Stdout);
        var report = json.RootElement;
        Assert.Equal(0, report.GetProperty("sequencesVerified").GetInt32());
        Assert.True(report.GetProperty("parkedTasks").GetInt32() >= 1, report.ToString());
        Assert.Contains("parked tasks", report.GetProperty("stalled").GetString(), StringComparison.Ordinal);
        Assert.Equal("FailEveryJob", Assert.Single(report.GetProperty("badProvers").EnumerateArray()).GetProperty("behaviour").GetString());
    }

    [Fact]
    public async Task exit_when_done_ends_the_run_non_zero_once_every_sequence_left_is_parked_by_the_sender()
    {
        // The only prover makes wrong final proofs: the sender rejects them until it parks each sequence.
        using var dir = new TempDir();
        using var devnet = ChildProcess.Zkpow(["devnet", "--t1", "2", "--t2", "5", "--provers", "1", "--prover-latency", "20ms", "--max-batches", "2", "--bad-provers", "1",
            "--bad-behaviours", "WrongFinalProof", "--sequences", "2", "--exit-when-done", "--json", "--timeout", "200s", "--data-dir", dir.File("devnet")]);
        Assert.True(await devnet.WaitForExitAsync(TimeSpan.FromMinutes(5)) == 1, devnet.Stderr);
        Assert.DoesNotContain("--timeout 200s reached", devnet.Stderr, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(devnet.Stdout);
        var report = json.RootElement;
        Assert.Equal(0, report.GetProperty("sequencesVerified").GetInt32());
        Assert.Equal(2, report.GetProperty("parkedSequences").GetInt32());
        Assert.Equal(0, report.GetProperty("invalidProofsCommitted").GetInt32());
        Assert.Equal(0, Assert.Single(report.GetProperty("miners").EnumerateArray()).GetProperty("hashesCommitted").GetInt32());
        Assert.Contains("2 parked sequences", report.GetProperty("stalled").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_devnet_behind_fault_proxies_counts_the_faults_and_its_timeout_ends_it_non_zero_with_the_report()
    {
        using var dir = new TempDir();
        var data = dir.File("devnet");

        // 50 sequences (one every 2 s) cannot all be verified within 25 s: the timeout ends the run. The devnet's own
        // windows (T1 = 5, T2 = 10 blocks): stalls of up to 4 s must fit a proof window.
        using var devnet = ChildProcess.Zkpow(["devnet", "--provers", "4", "--prover-latency", "20ms", "--max-batches", "4", "--sequences", "50", "--rpc-faults", "0.1", "--exit-when-done", "--timeout", "25s",
            "--json", "--data-dir", data]);
        Assert.True(await devnet.WaitForExitAsync(TimeSpan.FromMinutes(3)) == 1, devnet.Stderr);
        Assert.Contains("--timeout 25s reached", devnet.Stderr, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(devnet.Stdout);
        var report = json.RootElement;
        Assert.True(report.GetProperty("sequencesVerified").GetInt32() < 50);
        Assert.Equal(0, report.GetProperty("slashes").GetInt32());
        Assert.Equal(0, report.GetProperty("commitmentsOverdue").GetInt32());
        Assert.Equal(0, Assert.Single(report.GetProperty("miners").EnumerateArray()).GetProperty("commitmentsOverdue").GetInt32());

        var faults = report.GetProperty("faults");
        Assert.Equal(0.1, faults.GetProperty("rpcFaultRate").GetDouble());
        Assert.Equal(4, faults.GetProperty("proxies").GetInt32());
        var injected = faults.GetProperty("injected").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        Assert.True(faults.GetProperty("injectedTotal").GetInt64() > 0, faults.ToString());
        Assert.Equal(injected.Values.Sum(), faults.GetProperty("injectedTotal").GetInt64());
        Assert.True(injected.Count(k => k.Value > 0) >= 3, faults.ToString());
        Assert.True(faults.GetProperty("proxiedRequests").GetInt64() > faults.GetProperty("injectedTotal").GetInt64());
        Assert.Equal(0, injected["outage"]);
        Assert.Contains("; faults ", devnet.Stderr, StringComparison.Ordinal);

        // The aggregator was given two endpoints for each node, each behind its own proxy.
        using var config = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(data, "aggregator.json")));
        var rpcUrls = config.RootElement.GetProperty("Chain").GetProperty("RpcUrls").EnumerateArray().Select(u => u.GetString()).ToList();
        var nodeUrls = config.RootElement.GetProperty("Sync").GetProperty("RollupNodeUrls").EnumerateArray().Select(u => u.GetString()).ToList();
        Assert.Equal(4, rpcUrls.Concat(nodeUrls).Distinct().Count());
        Assert.Equal(rpcUrls[0], config.RootElement.GetProperty("Chain").GetProperty("RpcUrl").GetString());

        // devnet report, once the devnet is gone, gives the saved summary with its fault counters.
        using var again = ChildProcess.Zkpow("devnet", "report", "--data-dir", data, "--json");
        Assert.Equal(0, await again.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal(faults.GetProperty("injectedTotal").GetInt64(),
            JsonDocument.Parse(again.Stdout).RootElement.GetProperty("faults").GetProperty("injectedTotal").GetInt64());
    }

    [Fact]
    public async Task two_competing_miners_are_both_paid_and_neither_is_slashed()
    {
        using var dir = new TempDir();
        using var devnet = ChildProcess.Zkpow(["devnet", .. s_fast, "--sequences", "4", "--miners", "2", "--exit-when-done", "--json", "--log-level", "Information",
            "--data-dir", dir.File("devnet")]);
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
        // Both aggregators log in this one process: each line of theirs says whose it is.
        foreach (var miner in new[] { 1, 2 })
        {
            Assert.Contains(devnet.Stderr.Split('\n'), l => l.Contains($"=> miner {miner}", StringComparison.Ordinal) && l.Contains("ProofSender", StringComparison.Ordinal));
        }
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
