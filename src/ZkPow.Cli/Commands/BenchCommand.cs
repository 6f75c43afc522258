using System.CommandLine;
using Microsoft.Extensions.Logging;
using ZkPow.Devnet.Bench;

namespace ZkPow.Cli.Commands;

/// <summary><c>zkpow bench</c>: the proof-generator benchmark.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var provers = new Option<int>("--provers") { Description = "In-process mock provers (0 = serve external provers on --prover-port)", DefaultValueFactory = _ => 64 };
        var sequences = new Option<int>("--sequences") { Description = "Sequences to prove", DefaultValueFactory = _ => 1000 };
        var maxBatches = new Option<int>("--max-batches") { Description = "Batches per sequence are drawn from 1..N", DefaultValueFactory = _ => 8 };
        var latency = CliOptions.Duration("--prover-latency", "Time each mock prover job takes", TimeSpan.Zero);
        var jitter = new Option<double>("--latency-jitter") { Description = "Coefficient of variation of each job's time (lognormal with mean --prover-latency), e.g. 0.3", DefaultValueFactory = _ => 0 };
        var speeds = new Option<double[]>("--prover-speeds")
        {
            Description = "Prover speeds cycled over the provers, e.g. 1,1,2,4 (a job's time is divided by its prover's speed)",
            DefaultValueFactory = _ => [1],
            CustomParser = r =>
            {
                var text = string.Join(",", r.Tokens.Select(t => t.Value));
                var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var values = new double[parts.Length];
                for (var i = 0; i < parts.Length; i++)
                {
                    if (!double.TryParse(parts[i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out values[i]))
                    {
                        r.AddError($"--prover-speeds: '{parts[i]}' is not a number (expected a list such as 1,1,2,4)");
                        return [];
                    }
                }

                return values;
            },
        };
        var interval = CliOptions.Duration("--sequence-interval", "Time between two sequences being synced (0 = all at the start)", TimeSpan.Zero);
        var claimBeforeSend = new Option<bool>("--claim-before-send")
        {
            Description = "Every request waits until its claim is committed (Generator:ClaimBeforeSend; always so on PostgreSQL)",
        };
        var noLongPoll = new Option<bool>("--no-long-poll") { Description = "Mock provers answer GetProof at once, as real provers do (measures the adaptive polling)" };
        var noWarmUp = new Option<bool>("--no-warm-up")
        {
            Description = "Measure from a cold process: no throw-away runs first (the limits and the run then pay for compiling the code as they go)",
        };
        var noLimits = new Option<bool>("--no-limits") { Description = "Do not measure the round-trip and store limits" };
        var seed = new Option<int>("--seed") { Description = "Seed for the batch counts and data", DefaultValueFactory = _ => 1 };
        var port = new Option<int>("--prover-port") { Description = "Port for external provers with --provers 0", DefaultValueFactory = _ => 50081 };
        var batchBytes = new Option<int>("--batch-bytes") { Description = "Bytes of L2 data per batch", DefaultValueFactory = _ => 256 };
        var proofBytes = new Option<int>("--proof-bytes")
        {
            Description = "Size of the recursive proofs the mock provers return, bytes (real ones are around 1 MiB; at most 1.5 MiB so that an " +
                          "aggregation request of two fits Provers:MaxSendBytes, 4 MiB); 0 = the mock's few hundred bytes",
            DefaultValueFactory = _ => 0,
        };
        var db = new Option<string?>("--db") { Description = "Database file to use and keep (default: a temporary one); a rerun with the same file resumes" };
        var synchronous = new Option<string>("--sqlite-synchronous") { Description = "SQLite synchronous setting: FULL (durable, default) or NORMAL", DefaultValueFactory = _ => "FULL" };
        var store = new Option<string>("--store")
        {
            Description = "Store of the run: sqlite (the durable SQLite file, default) or postgres (durable PostgreSQL: a throwaway cluster started " +
                          "for the run and stopped at its end, or the empty database of --store-connection)",
            DefaultValueFactory = _ => "sqlite",
        };
        var replicas = new Option<int>("--replicas")
        {
            Description = "With --store postgres: generators (aggregator replicas) sharing the work through the database, each with its own store, " +
                          "prover server and share of the provers (prover i dials replica i mod N)",
            DefaultValueFactory = _ => 1,
        };
        var storeConnection = new Option<string?>("--store-connection")
        {
            Description = "With --store postgres: the connection string of an existing, empty PostgreSQL database to use instead of a throwaway cluster",
        };
        var timeline = new Option<string?>("--timeline")
        {
            Description = "Write the measured run's schedule to this CSV file, one line per job (prover, task, work drawn, ms since the start: ready, written, received, ended, answered, stored)",
        };
        var json = CliOptions.Json();
        var logLevel = CliOptions.LogLevel(LogLevel.Warning);
        var command = new Command("bench", "Benchmark the proof generator with mock provers over real gRPC and the durable store")
        {
            provers, sequences, maxBatches, latency, jitter, speeds, interval, noLongPoll, claimBeforeSend, noLimits, noWarmUp, seed, port, batchBytes, proofBytes, db, synchronous, store, replicas, storeConnection, timeline, json,
            logLevel,
            BenchTxsCommand.Create(),
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new GeneratorBenchmarkOptions
            {
                Provers = parse.GetValue(provers),
                Sequences = parse.GetValue(sequences),
                MaxBatches = parse.GetValue(maxBatches),
                ProverLatency = parse.GetValue(latency),
                LatencyJitter = parse.GetValue(jitter),
                ProverSpeeds = parse.GetValue(speeds) ?? [1],
                SequenceInterval = parse.GetValue(interval),
                LongPoll = !parse.GetValue(noLongPoll),
                ClaimBeforeSend = parse.GetValue(claimBeforeSend),
                MeasureLimits = !parse.GetValue(noLimits),
                WarmUp = !parse.GetValue(noWarmUp),
                Seed = parse.GetValue(seed),
                ProverPort = parse.GetValue(port),
                BatchBytes = parse.GetValue(batchBytes),
                ProofBytes = parse.GetValue(proofBytes),
                DatabasePath = parse.GetValue(db),
                SqliteSynchronous = parse.GetValue(synchronous) ?? "FULL",
                Store = parse.GetValue(store) ?? "sqlite",
                Replicas = parse.GetValue(replicas),
                StoreConnection = parse.GetValue(storeConnection),
                TimelinePath = parse.GetValue(timeline),
            };
            var asJson = parse.GetValue(json);
            try
            {
                options.Validate();
            }
            catch (ArgumentException ex)
            {
                await Console.Error.WriteLineAsync($"zkpow bench: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            using var loggers = CliLogging.Create(parse.GetValue(logLevel));
            var last = -1L;
            var progress = new Progress<(long Done, long Total)>(p =>
            {
                if (p.Done != last)
                {
                    last = p.Done;
                    Console.Error.WriteLine($"bench: {p.Done}/{p.Total} tasks");
                }
            });
            GeneratorBenchmarkResult result;
            try
            {
                result = await new GeneratorBenchmark(options, loggers, progress).RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or ObjectDisposedException or IOException
                or Grpc.Core.RpcException or InvalidOperationException)
            {
                // Ctrl+C / SIGTERM: the benchmark stopped what it had started; no figures for a run cut short.
                await Console.Error.WriteLineAsync("zkpow bench: stopped before the end; no figures").ConfigureAwait(false);
                return CliApp.ExitCode(1);
            }
            catch (ArgumentException ex)
            {
                // A database that is not empty, or a --timeline file that cannot be written: refused before the run.
                await Console.Error.WriteLineAsync($"zkpow bench: {ex.Message}").ConfigureAwait(false);
                return 2;
            }
            catch (Npgsql.NpgsqlException ex)
            {
                await Console.Error.WriteLineAsync($"zkpow bench: PostgreSQL: {ex.Message}").ConfigureAwait(false);
                return 1;
            }

            if (asJson)
            {
                JsonOutput.Write(result);
            }
            else
            {
                Console.Out.WriteLine($"""
                    Proved {result.Sequences} sequences ({result.Batches} batches, {result.TasksCompleted} tasks) with {result.Provers} provers in {result.ElapsedMs / 1000:0.00} s
                      throughput        {result.TasksPerSecond:0} tasks/s
                      limits            {(result.LimitTasksPerSecond is { } limit ? $"R {result.RoundTripsPerSecond:0} round trips/s, W {result.StoreCompletionsPerSecond:0} completions/s: limit min(R/2, W) = {limit:0} tasks/s, efficiency {result.Efficiency:0.000}" : "not measured")}
                      dispatch latency  p50 {result.DispatchP50Ms:0.000} ms, p99 {result.DispatchP99Ms:0.000} ms, max {result.DispatchMaxMs:0.000} ms (ready task and idle prover to request written)
                      dispatch e2e      p50 {result.DispatchE2eP50Ms:0.000} ms, p99 {result.DispatchE2eP99Ms:0.000} ms, max {result.DispatchE2eMaxMs:0.000} ms (prover's job done to its next request written, {result.DispatchE2eSamples} samples)
                        of which        poll lag p50 {result.PollLagP50Ms:0.000} ms, p99 {result.PollLagP99Ms:0.000} ms; proof received to next request p50 {result.AnswerToRequestP50Ms:0.000} ms, p99 {result.AnswerToRequestP99Ms:0.000} ms
                      unlock            p50 {result.UnlockP50Ms:0.000} ms, p99 {result.UnlockP99Ms:0.000} ms (an aggregation's or final's last input proof received to it ready, {result.UnlockSamples} samples)
                      fleet capacity    {(result.FleetBusyShare is { } busy ? $"{busy:P1} computing, {result.FleetBetweenJobsShare:P1} between jobs with a task ready, {result.FleetStarvedShare:P1} waiting with none (each prover's time x its speed)" : "n/a (zero-latency provers)")}
                      makespan          {(result.MakespanRatio is { } r ? $"{r:0.000} x ideal ({result.IdealMakespanMs:0} ms; longest critical path {result.CriticalPathMs:0} ms)" : "n/a (zero-latency provers)")}
                      sequence latency  {(result.SequenceLatencyRatio is { } q ? $"{q:0.000} x ideal on average, p99 {result.SequenceLatencyRatioP99:0.000} x; " : "")}p50 {result.SequenceLatencyP50Ms:0} ms, p99 {result.SequenceLatencyP99Ms:0} ms (synced to final proof stored)
                      policy alone      {(result.PolicyMakespanRatio is { } pm ? $"makespan {pm:0.000} x ideal, sequence latency {result.PolicySequenceLatencyRatio:0.000} x ideal (the generator's order and picks on the same drawn work, no overhead)" : "n/a (zero-latency provers)")}
                      store             {(result.Store == "postgres" ? $"postgres, {result.Replicas} replica(s) (tasks {string.Join(" + ", result.TasksCompletedPerReplica)}), {result.ClaimsLost} claims lost to another replica, fsync={result.PostgresFsync}, synchronous_commit={result.PostgresSynchronousCommit}" : $"sqlite, {result.StoreWrites} writes in {result.StoreCommits} commits, synchronous={result.SqliteSynchronous}")}
                      retries           {result.TasksRetried}
                      memory            peak RSS {result.PeakRssMb:0.0} MB; {result.RssBeforeProversMb:0.0} MB before the provers, {result.RunPeakRssMb:0.0} MB at most during the run{(result.MemoryPerSessionKb is { } kb ? $": {kb:0.0} KB per prover session (both ends)" : "")}
                      proofs stored     {result.ProofMbStored:0.0} MB at {result.ProofMbPerSecond:0.00} MB/s{(result.RawWriteFsyncMbPerSecond is { } rawRate ? $" (raw write+fsync next to the database: {rawRate:0.00} MB/s)" : "")}
                    """);
            }

            return 0;
        });
        return command;
    }
}
