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
        var seed = new Option<int>("--seed") { Description = "Seed for the batch counts and data", DefaultValueFactory = _ => 1 };
        var port = new Option<int>("--prover-port") { Description = "Port for external provers with --provers 0", DefaultValueFactory = _ => 50081 };
        var batchBytes = new Option<int>("--batch-bytes") { Description = "Bytes of L2 data per batch", DefaultValueFactory = _ => 256 };
        var db = new Option<string?>("--db") { Description = "Database file to use and keep (default: a temporary one); a rerun with the same file resumes" };
        var synchronous = new Option<string>("--sqlite-synchronous") { Description = "SQLite synchronous setting: FULL (durable, default) or NORMAL", DefaultValueFactory = _ => "FULL" };
        var json = CliOptions.Json();
        var logLevel = CliOptions.LogLevel(LogLevel.Warning);
        var command = new Command("bench", "Benchmark the proof generator with mock provers over real gRPC and the durable store")
        {
            provers, sequences, maxBatches, latency, seed, port, batchBytes, db, synchronous, json, logLevel,
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
                Seed = parse.GetValue(seed),
                ProverPort = parse.GetValue(port),
                BatchBytes = parse.GetValue(batchBytes),
                DatabasePath = parse.GetValue(db),
                SqliteSynchronous = parse.GetValue(synchronous) ?? "FULL",
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
            var result = await new GeneratorBenchmark(options, loggers, progress).RunAsync(cancellationToken).ConfigureAwait(false);
            if (asJson)
            {
                JsonOutput.Write(result);
            }
            else
            {
                Console.Out.WriteLine($"""
                    Proved {result.Sequences} sequences ({result.Batches} batches, {result.TasksCompleted} tasks) with {result.Provers} provers in {result.ElapsedMs / 1000:0.00} s
                      throughput        {result.TasksPerSecond:0} tasks/s
                      dispatch latency  p50 {result.DispatchP50Ms:0.000} ms, p99 {result.DispatchP99Ms:0.000} ms, max {result.DispatchMaxMs:0.000} ms
                      makespan          {(result.MakespanRatio is { } r ? $"{r:0.000} x ideal ({result.IdealMakespanMs:0} ms)" : "n/a (zero-latency provers)")}
                      store             {result.StoreWrites} writes in {result.StoreCommits} commits, synchronous={result.SqliteSynchronous}
                      retries           {result.TasksRetried}
                    """);
            }

            return 0;
        });
        return command;
    }
}
