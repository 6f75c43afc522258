using System.Text.Json;
using Npgsql;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Storage;
using ZkPow.Devnet.Bench;

namespace ZkPow.Cli.Tests;

public sealed class BenchCommandTests
{
    [Fact]
    public async Task bench_with_json_prints_exactly_one_json_object_with_the_measured_figures()
    {
        var timeline = Path.Combine(Path.GetTempPath(), $"zkpow-timeline-{Guid.NewGuid():N}.csv");
        using var bench = ChildProcess.Zkpow("bench", "--provers", "4", "--sequences", "12", "--max-batches", "5", "--prover-latency", "5ms",
            "--latency-jitter", "0.3", "--prover-speeds", "1,2", "--seed", "3", "--timeline", timeline, "--json");
        Assert.Equal(0, await bench.WaitForExitAsync(TimeSpan.FromMinutes(2)));
        using var json = JsonDocument.Parse(bench.Stdout);
        var root = json.RootElement;
        var batches = root.GetProperty("batches").GetInt32();
        Assert.Equal(12, root.GetProperty("finalProofs").GetInt32());
        Assert.Equal(2 * batches, root.GetProperty("tasksCompleted").GetInt32());
        Assert.Equal("FULL", root.GetProperty("sqliteSynchronous").GetString());
        Assert.Equal(3, root.GetProperty("seed").GetInt32());
        foreach (var figure in new[]
                 {
                     "elapsedMs", "tasksPerSecond", "dispatchP50Ms", "dispatchP99Ms", "makespanRatio", "roundTripsPerSecond",
                     "storeCompletionsPerSecond", "limitTasksPerSecond", "efficiency", "dispatchE2eP99Ms", "idealMakespanMs", "criticalPathMs",
                     "sequenceLatencyRatio",
                 })
        {
            Assert.True(root.GetProperty(figure).GetDouble() > 0, $"{figure} should be positive");
        }

        // Every aggregation and final (as many as batches) became ready after its last input proof arrived.
        Assert.Equal(batches, root.GetProperty("unlockSamples").GetInt32());
        Assert.InRange(root.GetProperty("unlockP50Ms").GetDouble(), 0, root.GetProperty("unlockP99Ms").GetDouble());

        // One end-to-end sample per job but each prover's first; the limit is the smaller of R/2 and W.
        Assert.InRange(root.GetProperty("dispatchE2eSamples").GetInt32(), 1, 2 * batches - 1);
        var limit = Math.Min(root.GetProperty("roundTripsPerSecond").GetDouble() / 2, root.GetProperty("storeCompletionsPerSecond").GetDouble());
        Assert.Equal(Math.Round(limit, 1), root.GetProperty("limitTasksPerSecond").GetDouble(), 0.11);
        // The policy played out on the same work with no overhead: the ideal is a lower bound of any schedule.
        Assert.True(root.GetProperty("policyMakespanRatio").GetDouble() >= 1, root.GetProperty("policyMakespanRatio").ToString());
        Assert.True(root.GetProperty("policySequenceLatencyRatio").GetDouble() > 0);
        Assert.Equal(0.3, root.GetProperty("latencyJitter").GetDouble());
        Assert.Equal("1,2", root.GetProperty("proverSpeeds").GetString());
        // The warm-up's throw-away run came first (one round of the run's size: it has fewer than 60 sequences); none of
        // its tasks or final proofs is counted above.
        Assert.True(root.GetProperty("warmUp").GetBoolean());
        Assert.Equal((1, 12), (root.GetProperty("warmUpRounds").GetInt32(), root.GetProperty("warmUpSequences").GetInt32()));
        Assert.True(root.GetProperty("warmUpMs").GetDouble() > 0);
        Assert.Contains(root.GetProperty("warmUpJitIdle").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        Assert.True(root.GetProperty("jitMsDuringRun").GetDouble() >= 0);

        Assert.Contains("tasks", bench.Stderr);

        // The schedule: one line per job, each in the order of its own times, every sequence's final proof stored.
        var lines = File.ReadAllLines(timeline);
        File.Delete(timeline);
        Assert.Equal(GeneratorBenchmark.TimelineHeader, lines[0]);
        var jobs = lines.Skip(1).Select(line => line.Split(',')).ToArray();
        Assert.Equal(2 * batches, jobs.Length);
        Assert.Equal(12, jobs.Count(job => job[1] == nameof(TaskKind.Final)));
        Assert.Equal(4, jobs.Select(job => job[0]).Distinct().Count());
        foreach (var job in jobs)
        {
            var (ready, written, received, ended, answered, stored) = (Ms(job[7]), Ms(job[8]), Ms(job[9]), Ms(job[10]), Ms(job[11]), Ms(job[12]));
            // The prover's times are its wall clock, the aggregator's a stopwatch since the start: 1 ms of slack between them.
            Assert.True(ready <= written && written <= received + 1 && received < ended && ended <= answered + 1 && answered <= stored,
                string.Join(',', job));
        }

        // Where the fleet's capacity went adds up, and its computing share is the schedule's: each job's time on its
        // prover × that prover's speed (bench-000 1, bench-001 2, cycling), over the fleet's speed × the last job's end.
        var (busy, between, starved) = (root.GetProperty("fleetBusyShare").GetDouble(), root.GetProperty("fleetBetweenJobsShare").GetDouble(),
            root.GetProperty("fleetStarvedShare").GetDouble());
        Assert.True(busy > 0 && between >= 0 && starved >= 0, $"{busy} {between} {starved}");
        Assert.Equal(1, busy + between + starved, 0.002);
        double Speed(string prover) => int.Parse(prover["bench-".Length..], System.Globalization.CultureInfo.InvariantCulture) % 2 == 0 ? 1 : 2;
        var fleetSpeed = jobs.Select(job => job[0]).Distinct().Sum(Speed);
        var computing = jobs.Sum(job => Speed(job[0]) * Ms(job[6])) / (fleetSpeed * jobs.Max(job => Ms(job[10])));
        Assert.Equal(computing, busy, 0.002);
    }

    private static double Ms(string value) => double.Parse(value, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task bench_refuses_bad_options_with_a_clear_message()
    {
        using var bench = ChildProcess.Zkpow("bench", "--prover-latency", "fast");
        Assert.NotEqual(0, await bench.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("'fast' is not a duration", bench.Stderr);
        Assert.Equal("", bench.Stdout.Trim());

        using var speeds = ChildProcess.Zkpow("bench", "--prover-speeds", "1,x");
        Assert.NotEqual(0, await speeds.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("'x' is not a number", speeds.Stderr);

        using var jitter = ChildProcess.Zkpow("bench", "--latency-jitter", "-1");
        Assert.NotEqual(0, await jitter.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("--latency-jitter must be between 0 and 10", jitter.Stderr);

        // Two proofs of more than 1.5 MiB would not fit an aggregation request within Provers:MaxSendBytes.
        using var proofs = ChildProcess.Zkpow("bench", "--proof-bytes", "1572865", "--json");
        Assert.Equal(2, await proofs.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("--proof-bytes must be between 0 and 1572864", proofs.Stderr);
        Assert.Contains("Provers:MaxSendBytes", proofs.Stderr);
        Assert.Equal("", proofs.Stdout.Trim());

        // A schedule file that cannot be written (its folder is a file) is refused before the run, not after it.
        var notAFolder = Path.GetTempFileName();
        try
        {
            using var timeline = ChildProcess.Zkpow("bench", "--provers", "2", "--sequences", "2", "--prover-latency", "5ms", "--no-warm-up",
                "--timeline", Path.Combine(notAFolder, "schedule.csv"), "--json");
            Assert.Equal(2, await timeline.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains("--timeline: cannot write", timeline.Stderr);
            Assert.DoesNotContain("tasks", timeline.Stderr);
            Assert.Equal("", timeline.Stdout.Trim());
        }
        finally
        {
            File.Delete(notAFolder);
        }
    }

    [Fact]
    public async Task bench_with_proof_bytes_stores_proofs_of_that_size_and_reports_memory_and_write_rates()
    {
        const int size = 256 * 1024;
        using var bench = ChildProcess.Zkpow("bench", "--provers", "2", "--sequences", "3", "--max-batches", "3", "--proof-bytes", $"{size}",
            "--no-limits", "--no-warm-up", "--json");
        Assert.Equal(0, await bench.WaitForExitAsync(TimeSpan.FromMinutes(2)));
        using var json = JsonDocument.Parse(bench.Stdout);
        var root = json.RootElement;
        Assert.Equal(3, root.GetProperty("finalProofs").GetInt32());
        Assert.False(root.GetProperty("warmUp").GetBoolean());
        Assert.Equal(size, root.GetProperty("proofBytes").GetInt32());

        // Every batch and aggregate task stores one recursive proof of about the requested size (a final task stores none).
        var recursive = root.GetProperty("tasksCompleted").GetInt32() - 3;
        Assert.Equal(recursive * size / 1e6, root.GetProperty("proofMbStored").GetDouble(), 0.2);
        foreach (var figure in new[] { "proofMbPerSecond", "rawWriteFsyncMbPerSecond", "peakRssMb", "rssBeforeProversMb", "runPeakRssMb" })
        {
            Assert.True(root.GetProperty(figure).GetDouble() > 0, $"{figure} should be positive");
        }

        Assert.True(root.GetProperty("peakRssMb").GetDouble() >= root.GetProperty("runPeakRssMb").GetDouble());
        Assert.Equal(JsonValueKind.Number, root.GetProperty("memoryPerSessionKb").ValueKind);
    }

    [Fact]
    public async Task bench_on_postgres_with_two_replicas_proves_every_sequence_and_reports_the_shared_run()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync();
        using var bench = ChildProcess.Zkpow("bench", "--store", "postgres", "--replicas", "2", "--store-connection", database, "--provers", "4",
            "--sequences", "8", "--max-batches", "4", "--prover-latency", "5ms", "--seed", "2", "--json");
        Assert.Equal(0, await bench.WaitForExitAsync(TimeSpan.FromMinutes(3)));
        using var json = JsonDocument.Parse(bench.Stdout);
        var root = json.RootElement;
        var batches = GeneratorBenchmark.BuildSequences(new GeneratorBenchmarkOptions { Sequences = 8, MaxBatches = 4, Seed = 2 }).Sum(s => s.Batches.Count);
        Assert.Equal(batches, root.GetProperty("batches").GetInt32());
        Assert.Equal(8, root.GetProperty("finalProofs").GetInt32());
        // Each batch: one batch task, one aggregation or final task above it.
        Assert.Equal(2 * batches, root.GetProperty("tasksCompleted").GetInt32());
        Assert.Equal("postgres", root.GetProperty("store").GetString());
        Assert.Equal(2, root.GetProperty("replicas").GetInt32());
        var perReplica = root.GetProperty("tasksCompletedPerReplica").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        Assert.Equal(2, perReplica.Length);
        Assert.Equal(2 * batches, perReplica.Sum());
        Assert.All(perReplica, n => Assert.True(n > 0, "both replicas' provers got work"));
        Assert.True(root.GetProperty("claimsLost").GetInt64() >= 0);
        var durable = cluster.Durable ? "on" : "off";
        Assert.Equal(durable, root.GetProperty("postgresFsync").GetString());
        Assert.Equal(durable, root.GetProperty("postgresSynchronousCommit").GetString());
        foreach (var sqliteOnly in new[] { "sqliteSynchronous", "storeCommits", "storeWrites" })
        {
            Assert.Equal(JsonValueKind.Null, root.GetProperty(sqliteOnly).ValueKind);
        }

        foreach (var figure in new[] { "tasksPerSecond", "dispatchP99Ms", "storeCompletionsPerSecond", "efficiency" })
        {
            Assert.True(root.GetProperty(figure).GetDouble() > 0, $"{figure} should be positive");
        }

        // What the run left in the database: every final proof, and no trace of the store-limit measurement's schema.
        await using var store = await PostgresStore.OpenAsync(new StoreOptions { Provider = "postgres", ConnectionString = database }, TimeProvider.System,
            CancellationToken.None);
        Assert.Equal(8, await store.CountFinalProofsAsync(CancellationToken.None));
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var schemas = new NpgsqlCommand("SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'zkpow_bench_limit_%';", connection);
        Assert.Equal(0L, (long)(await schemas.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task bench_refuses_a_postgres_database_that_holds_tasks_and_changes_nothing_in_it()
    {
        var database = await PostgresCluster.NewDatabaseAsync();
        await using (var store = await PostgresStore.OpenAsync(new StoreOptions { Provider = "postgres", ConnectionString = database }, TimeProvider.System,
                         CancellationToken.None))
        {
            await store.AddSequenceAsync(new SequenceInput(0, 1, [new BatchInput(1, [1, 2, 3])]), CancellationToken.None);
        }

        using var bench = ChildProcess.Zkpow("bench", "--store", "postgres", "--store-connection", database, "--provers", "2", "--sequences", "2", "--json");
        Assert.Equal(2, await bench.WaitForExitAsync(TimeSpan.FromMinutes(2)));
        Assert.Contains("already holds 1 tasks and 0 final proofs", bench.Stderr);
        Assert.Contains("empty database", bench.Stderr);
        Assert.Equal("", bench.Stdout.Trim());
        await using var after = await PostgresStore.OpenAsync(new StoreOptions { Provider = "postgres", ConnectionString = database }, TimeProvider.System,
            CancellationToken.None);
        Assert.Equal(1, (await after.CountTasksAsync(CancellationToken.None)).Values.Sum());
    }

    [Fact]
    public async Task bench_refuses_store_options_that_do_not_go_together()
    {
        using var replicas = ChildProcess.Zkpow("bench", "--replicas", "2", "--json");
        Assert.Equal(2, await replicas.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("--replicas 2 needs --store postgres", replicas.Stderr);
        Assert.Equal("", replicas.Stdout.Trim());

        using var store = ChildProcess.Zkpow("bench", "--store", "mysql");
        Assert.Equal(2, await store.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("--store must be sqlite or postgres, not 'mysql'", store.Stderr);
    }
}
