using System.Text.Json;
using System.Text.RegularExpressions;

namespace ZkPow.Cli.Tests;

/// <summary>
/// <c>zkpow devnet --store postgres --replicas N</c>: a throwaway PostgreSQL cluster, each miner's aggregator as N
/// <c>zkpow run</c> child processes on one database, the mock provers spread over them; the report's acceptance figures
/// (verified, slashes, nonces, one hash and one reveal per sequence) and every child process gone at the end.
/// </summary>
[Collection(DevnetCollection.Name)]
public sealed partial class DevnetReplicaTests
{
    [Fact]
    public async Task two_replicas_on_postgres_verify_every_sequence_with_contiguous_nonces_and_one_hash_and_reveal_each()
    {
        using var dir = new TempDir();
        var data = dir.File("devnet");
        using var devnet = ChildProcess.Zkpow(["devnet", "--store", "postgres", "--replicas", "2", "--sequences", "3", "--t1", "3", "--t2", "6", "--provers", "4",
            "--prover-latency", "20ms", "--max-batches", "3", "--exit-when-done", "--json", "--timeout", "150s", "--data-dir", data]);
        Assert.True(await devnet.WaitForExitAsync(TimeSpan.FromMinutes(4)) == 0, devnet.Stderr);
        using var json = JsonDocument.Parse(devnet.Stdout);
        var report = json.RootElement;
        Assert.Equal(3, report.GetProperty("sequencesVerified").GetInt32());
        Assert.Equal(0, report.GetProperty("slashes").GetInt32());
        Assert.Equal(0, report.GetProperty("invalidProofsCommitted").GetInt32());
        var replicas = report.GetProperty("replicas");
        Assert.Equal(2, replicas.GetProperty("count").GetInt32());
        Assert.Equal(0, replicas.GetProperty("kills").GetInt32());
        Assert.Equal(0, replicas.GetProperty("unexpectedExits").GetInt32());
        Assert.Empty(report.GetProperty("finalProofsRequestedTwice").EnumerateArray());
        Assert.True(report.GetProperty("proofsGenerated").GetProperty("final").GetInt64() >= 3, "the final proofs are read from the PostgreSQL store");

        var miner = Assert.Single(report.GetProperty("miners").EnumerateArray());
        Assert.True(miner.GetProperty("noncesContiguous").GetBoolean(), miner.GetProperty("nonceProblems").ToString());
        // The stake deposit, then a hash and a reveal per sequence (and any no-op cancels): every nonce used once.
        var gas = miner.GetProperty("gas");
        Assert.Equal((ulong)(gas.GetProperty("txs").GetInt32() + gas.GetProperty("stakeTxs").GetInt32()), miner.GetProperty("nonceCount").GetUInt64());
        Assert.Equal(3, miner.GetProperty("sequencesWithOneHashAndReveal").GetInt32());
        Assert.Empty(miner.GetProperty("sequencesWithOtherCounts").EnumerateArray());
        Assert.Equal(0, miner.GetProperty("slashes").GetInt32());

        // The devnet ran real processes and stopped each of them by PID: both replicas and the PostgreSQL server.
        var pids = ReplicaPid().Matches(devnet.Stderr).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(2, pids.Count);
        pids.Add(int.Parse(PostgresPid().Match(devnet.Stderr).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        pids.Add(int.Parse(AnvilPid().Match(devnet.Stderr).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.All(pids, pid => Assert.False(IsRunning(pid), $"process {pid} still runs after the devnet ended"));
        Assert.True(File.Exists(Path.Combine(data, "replica-1.log")) && File.Exists(Path.Combine(data, "replica-2.log")));
        Assert.Contains("miner1-replica-2", await File.ReadAllTextAsync(Path.Combine(data, "replica-2.json")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task replicas_killed_every_few_seconds_leader_included_still_verify_every_sequence_without_a_slash_or_a_nonce_gap()
    {
        using var dir = new TempDir();
        using var devnet = ChildProcess.Zkpow(["devnet", "--store", "postgres", "--replicas", "2", "--sequences", "6", "--t1", "3", "--t2", "6", "--provers", "4",
            "--prover-latency", "20ms", "--max-batches", "3", "--kill-replicas", "2s-4s", "--exit-when-done", "--json", "--timeout", "150s",
            "--data-dir", dir.File("devnet")]);
        Assert.True(await devnet.WaitForExitAsync(TimeSpan.FromMinutes(4)) == 0, devnet.Stderr);
        using var json = JsonDocument.Parse(devnet.Stdout);
        var report = json.RootElement;
        var replicas = report.GetProperty("replicas");
        var kills = replicas.GetProperty("kills").GetInt32();
        // Six sequences take at least 12 s (one every 2 s): two kills or more, so the leader at least once.
        Assert.True(kills >= 2, $"only {kills} kills");
        Assert.True(replicas.GetProperty("leaderKills").GetInt32() >= 1, devnet.Stderr);
        Assert.InRange(replicas.GetProperty("restarts").GetInt32(), kills - 1, kills);
        Assert.Equal(0, replicas.GetProperty("unexpectedExits").GetInt32());
        Assert.Equal(kills, Regex.Matches(devnet.Stderr, "with SIGKILL").Count);

        Assert.Equal(6, report.GetProperty("sequencesVerified").GetInt32());
        var slashes = report.GetProperty("slashes").GetInt32();
        if (slashes != 0)
        {
            Assert.Fail($"{slashes} slashes; what the replicas' senders logged:{Environment.NewLine}{SenderLines(dir.File("devnet"))}");
        }

        Assert.Equal(0, report.GetProperty("invalidProofsCommitted").GetInt32());
        var miner = Assert.Single(report.GetProperty("miners").EnumerateArray());
        Assert.True(miner.GetProperty("noncesContiguous").GetBoolean(), miner.GetProperty("nonceProblems").ToString());
        Assert.Equal(6, miner.GetProperty("sequencesWithOneHashAndReveal").GetInt32());
        Assert.Empty(miner.GetProperty("sequencesWithOtherCounts").EnumerateArray());
    }

    [Fact]
    public async Task ctrl_c_to_the_devnet_alone_stops_its_replicas_and_its_postgres_server_by_pid()
    {
        using var dir = new TempDir();
        var data = dir.File("devnet");
        using var devnet = ChildProcess.Zkpow("devnet", "--store", "postgres", "--replicas", "2", "--t1", "3", "--t2", "6", "--provers", "2",
            "--prover-latency", "20ms", "--max-batches", "2", "--json", "--data-dir", data);
        var pids = await WaitForPidsAsync(devnet);

        // SIGINT to the devnet's PID only (not its process group): the replicas hear nothing but what the devnet sends them.
        devnet.Signal(2);
        Assert.True(await devnet.WaitForExitAsync(TimeSpan.FromMinutes(1)) == 130, devnet.Stderr);
        Assert.All(pids, pid => Assert.False(IsRunning(pid), $"process {pid} still runs after the devnet ended"));
        Assert.True(File.Exists(Path.Combine(data, "report.json")), devnet.Stderr);
        Assert.DoesNotContain("exited unexpectedly", devnet.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task exit_when_done_sees_a_stall_of_replicas_through_the_leaders_status_and_the_database()
    {
        // The only prover fails every job: its tasks are parked (in the shared database) and nothing left can make progress.
        using var dir = new TempDir();
        using var devnet = ChildProcess.Zkpow(["devnet", "--store", "postgres", "--replicas", "2", "--t1", "3", "--t2", "6", "--provers", "1",
            "--prover-latency", "20ms", "--max-batches", "2", "--bad-provers", "1", "--bad-behaviours", "FailEveryJob", "--sequences", "1",
            "--exit-when-done", "--json", "--timeout", "150s", "--data-dir", dir.File("devnet")]);
        Assert.True(await devnet.WaitForExitAsync(TimeSpan.FromMinutes(4)) == 1, devnet.Stderr);
        Assert.DoesNotContain("--timeout 150s reached", devnet.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing left can make progress", devnet.Stderr, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(devnet.Stdout);
        var report = json.RootElement;
        Assert.Equal(0, report.GetProperty("sequencesVerified").GetInt32());
        Assert.True(report.GetProperty("parkedTasks").GetInt32() >= 1, report.ToString());
        Assert.Contains("parked tasks", report.GetProperty("stalled").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ctrl_c_in_a_terminal_reaches_the_devnet_only_which_stops_its_replicas_without_calling_their_exit_unexpected()
    {
        using var dir = new TempDir();
        var data = dir.File("devnet");
        // The devnet leads its own process group, as a terminal's foreground job; Ctrl-C signals the whole group.
        using var devnet = ChildProcess.ZkpowInOwnGroup("devnet", "--store", "postgres", "--replicas", "2", "--t1", "3", "--t2", "6", "--provers", "2",
            "--prover-latency", "20ms", "--max-batches", "2", "--json", "--data-dir", data);
        var pids = await WaitForPidsAsync(devnet);

        devnet.SignalGroup(2);
        Assert.True(await devnet.WaitForExitAsync(TimeSpan.FromMinutes(1)) == 130, devnet.Stderr);
        Assert.All(pids, pid => Assert.False(IsRunning(pid), $"process {pid} still runs after the devnet ended"));
        // (The group's Ctrl-C reaches anvil too, so there may be no report; the replicas must not have heard it.)
        Assert.DoesNotContain("exited unexpectedly", devnet.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_replica_that_dies_without_the_devnet_killing_it_is_reported_and_the_other_one_carries_on()
    {
        using var dir = new TempDir();
        using var devnet = ChildProcess.Zkpow("devnet", "--store", "postgres", "--replicas", "2", "--sequences", "3", "--t1", "3", "--t2", "6", "--provers", "4",
            "--prover-latency", "20ms", "--max-batches", "2", "--exit-when-done", "--json", "--timeout", "150s", "--data-dir", dir.File("devnet"));
        var pids = await WaitForPidsAsync(devnet);

        // Replica 2 crashes (a SIGKILL the devnet did not send); it is not restarted.
        using (var crashed = System.Diagnostics.Process.GetProcessById(pids[1]))
        {
            crashed.Kill();
        }

        Assert.True(await devnet.WaitForExitAsync(TimeSpan.FromMinutes(4)) == 0, devnet.Stderr);
        Assert.Matches(@"miner1-replica-2 \(PID \d+\) exited unexpectedly", devnet.Stderr);
        using var json = JsonDocument.Parse(devnet.Stdout);
        var report = json.RootElement;
        Assert.Equal(1, report.GetProperty("replicas").GetProperty("unexpectedExits").GetInt32());
        Assert.Equal(0, report.GetProperty("replicas").GetProperty("kills").GetInt32());
        Assert.Equal(3, report.GetProperty("sequencesVerified").GetInt32());
        Assert.Equal(0, report.GetProperty("slashes").GetInt32());
    }

    [Fact]
    public async Task a_devnet_killed_with_sigkill_leaves_no_replica_postgres_server_or_anvil_behind()
    {
        using var dir = new TempDir();
        using var devnet = ChildProcess.Zkpow("devnet", "--store", "postgres", "--replicas", "2", "--t1", "3", "--t2", "6", "--provers", "2",
            "--prover-latency", "20ms", "--max-batches", "2", "--json", "--data-dir", dir.File("devnet"));
        var pids = await WaitForPidsAsync(devnet);

        devnet.Signal(9);
        await devnet.WaitForExitAsync(TimeSpan.FromMinutes(1));
        // The watchdogs poll every 2 s; PostgreSQL gets 5 s for a fast shutdown.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (pids.Any(IsRunning) && watch.Elapsed < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(250);
        }

        Assert.All(pids, pid => Assert.False(IsRunning(pid), $"process {pid} still runs after the devnet was killed"));
    }

    private static async Task<List<int>> WaitForPidsAsync(ChildProcess devnet)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (ReplicaPid().Matches(devnet.Stderr).Count < 2 || !PostgresPid().IsMatch(devnet.Stderr) || !AnvilPid().IsMatch(devnet.Stderr))
        {
            Assert.False(devnet.HasExited, devnet.Stderr);
            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(2), "the devnet did not start: " + devnet.Stderr);
            await Task.Delay(200);
        }

        var pids = ReplicaPid().Matches(devnet.Stderr).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        pids.Add(int.Parse(PostgresPid().Match(devnet.Stderr).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        pids.Add(int.Parse(AnvilPid().Match(devnet.Stderr).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.All(pids, pid => Assert.True(IsRunning(pid), $"process {pid} is not running"));
        return pids;
    }

    [Fact]
    public async Task replicas_without_postgres_are_refused_naming_the_store_flag()
    {
        using var devnet = ChildProcess.Zkpow("devnet", "--replicas", "2", "--sequences", "1");
        Assert.Equal(2, await devnet.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("--replicas above 1 needs --store postgres", devnet.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task kill_replicas_without_two_replicas_is_refused()
    {
        using var devnet = ChildProcess.Zkpow("devnet", "--store", "postgres", "--kill-replicas", "10s-20s", "--sequences", "1");
        Assert.Equal(2, await devnet.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("--kill-replicas needs --replicas 2 or more", devnet.Stderr, StringComparison.Ordinal);
    }

    // The start lines may be wrapped at the console's width.
    [GeneratedRegex(@"miner1-replica-\d\s+\(PID\s+(\d+)\)")]
    private static partial Regex ReplicaPid();

    [GeneratedRegex(@"PostgreSQL\s[\s\S]*?\(PID\s+(\d+)\)")]
    private static partial Regex PostgresPid();

    [GeneratedRegex(@"devnet up[\s\S]*?anvil [\s\S]*?PID\s+(\d+)\)")]
    private static partial Regex AnvilPid();

    /// <summary>The sender, sync and transaction lines of every replica log under <paramref name="data"/>, in time order
    /// (the test's directory is deleted afterwards: a failure has to carry them).</summary>
    private static string SenderLines(string data) =>
        string.Join(Environment.NewLine, Directory.EnumerateFiles(data, "replica-*.log", SearchOption.AllDirectories)
            .SelectMany(log => File.ReadLines(log).Select(line => (Replica: Path.GetFileNameWithoutExtension(log), Line: line)))
            .Where(l => l.Line.Contains("ProofSender", StringComparison.Ordinal) || l.Line.Contains("RollupSync", StringComparison.Ordinal) ||
                l.Line.Contains("TxManager", StringComparison.Ordinal) || l.Line.Contains("LeaderService", StringComparison.Ordinal))
            .OrderBy(l => l.Line, StringComparer.Ordinal)
            .TakeLast(300)
            .Select(l => $"{l.Replica}: {l.Line}"));

    private static bool IsRunning(int pid) =>
        File.Exists($"/proc/{pid}/status") && !File.ReadAllText($"/proc/{pid}/status").Contains("State:\tZ", StringComparison.Ordinal);
}
