using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Protocol;
using ZkPow.Aggregator.Storage;
using ZkPow.Devnet.Proof;
using ZkPow.Devnet.Prover;

namespace ZkPow.Devnet.Bench;

/// <summary>
/// Runs the Proof Generator in-process against mock provers over real gRPC on loopback and the real SQLite store at
/// its durable settings, proves made-up devnet sequences to stored final proofs and measures throughput, dispatch
/// latency, makespan and sequence latency against the ideal, and, in the same run, the two limits the throughput lives
/// under (gRPC round trips and durable store completions).
/// </summary>
public sealed partial class GeneratorBenchmark(GeneratorBenchmarkOptions options, ILoggerFactory loggers, IProgress<(long Done, long Total)>? progress = null)
{
    /// <summary>The address final proofs are bound to in the benchmark (anvil's account 1).</summary>
    public const string MinerAddress = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    public async Task<GeneratorBenchmarkResult> RunAsync(CancellationToken cancellationToken)
    {
        options.Validate();
        var sequences = BuildSequences(options);

        var batches = sequences.Sum(s => s.Batches.Count);
        var totalTasks = sequences.Sum(s => (2 * s.Batches.Count) - 1 + 1);

        var temp = string.IsNullOrEmpty(options.DatabasePath)
            ? Path.Combine(Path.GetTempPath(), $"zkpow-bench-{Guid.NewGuid():N}")
            : null;
        var dbPath = options.DatabasePath ?? Path.Combine(temp!, "bench.db");
        var time = TimeProvider.System;
        try
        {
            double? roundTrips = null;
            double? storeCompletions = null;
            if (options.Provers > 0 && options.MeasureLimits)
            {
                var log0 = loggers.CreateLogger<GeneratorBenchmark>();
                log0.LogInformation("Measuring the limits: loopback gRPC round trips and durable store completions");
                roundTrips = await MeasureRoundTripsAsync(sequences, options.Provers, cancellationToken).ConfigureAwait(false);
                var sample = MockProofComputer.Batch(new GenBatchProofRequest { Input = InputProver.Parser.ParseFrom(sequences[0].Batches[0].ProverInput) },
                    6, emptyProof: false, options.ProofBytes).Outcome.RecursiveProof ?? "";
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(dbPath))!);
                var limitDb = Path.GetFullPath(dbPath) + $".limit-{Guid.NewGuid():N}.db";
                try
                {
                    storeCompletions = await MeasureStoreAsync(sequences, limitDb, options.Provers, sample, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    foreach (var file in new[] { limitDb, limitDb + "-wal", limitDb + "-shm" })
                    {
                        File.Delete(file);
                    }
                }
            }

            await using var store = await SqliteStore.OpenAsync(
                new StoreOptions { SqlitePath = dbPath, SqliteSynchronous = options.SqliteSynchronous }, time, cancellationToken).ConfigureAwait(false);
            using var metrics = new GeneratorMetrics { KeepDispatchRecords = true };
            var generator = new ProofGenerator(store, new GeneratorOptions(), MinerAddress, metrics, loggers.CreateLogger<ProofGenerator>(), time);
            await using var generatorScope = generator.ConfigureAwait(false);
            // A resumed run (same --db) counts the final proofs stored before it.
            var finals = await store.CountFinalProofsAsync(cancellationToken).ConfigureAwait(false);
            var allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var lastFinal = Stopwatch.GetTimestamp();
            var storedAt = new ConcurrentDictionary<ulong, long>();
            generator.FinalProofStored += record =>
            {
                lastFinal = Stopwatch.GetTimestamp();
                storedAt[record.FinalBatch] = lastFinal;
                if (Interlocked.Increment(ref finals) >= sequences.Count)
                {
                    allDone.TrySetResult();
                }
            };
            if (finals >= sequences.Count)
            {
                allDone.TrySetResult();
            }

            await generator.StartAsync(cancellationToken).ConfigureAwait(false);

            var sessions = new ProverSessionOptions();
            var external = options.Provers == 0;
            await using var server = await ProverServer.StartAsync(
                ServerOptions(options.Provers, external ? options.ProverPort : 0), sessions, generator,
                loggers, time, cancellationToken).ConfigureAwait(false);
            var log = loggers.CreateLogger<GeneratorBenchmark>();
            var rssBefore = Memory.Rss();
            var runPeakRss = rssBefore;
            var provers = new List<MockProver>();
            var running = new List<Task>();
            try
            {
                for (var i = 0; i < options.Provers; i++)
                {
                    var prover = new MockProver(new MockProverOptions
                    {
                        Aggregator = server.Address,
                        Name = $"bench-{i:D3}",
                        BatchLatency = options.ProverLatency,
                        AggregateLatency = options.ProverLatency,
                        FinalLatency = options.ProverLatency,
                        LatencyJitter = options.LatencyJitter,
                        Speed = options.SpeedOf(i),
                        Seed = unchecked((options.Seed * 7919) + i),
                        HonourGetProofTimeout = options.LongPoll,
                        RecordTimings = true,
                        ReconnectDelay = TimeSpan.FromMilliseconds(200),
                        ProofBytes = options.ProofBytes,
                        // Megabyte proofs kept in this process for the default hour would measure the mock, not the aggregator;
                        // 15 s covers the aggregator's polls on a loaded machine now that its result backlog is bounded
                        // (Generator:MaxPendingOutcomeBytes). The mocks' kept results still dominate peakRssMb at 1 MiB.
                        JobRetention = options.ProofBytes > 0 ? TimeSpan.FromSeconds(15) : TimeSpan.FromHours(1),
                    }, time);
                    provers.Add(prover);
                    running.Add(prover.RunAsync(cancellationToken));
                }

                if (external)
                {
                    log.LogInformation("Waiting for external provers on port {Port}", server.Port);
                }
                else
                {
                    var wait = Stopwatch.StartNew();
                    while (metrics.ConnectedProvers < options.Provers)
                    {
                        if (wait.Elapsed > TimeSpan.FromSeconds(60))
                        {
                            throw new TimeoutException($"only {metrics.ConnectedProvers} of {options.Provers} provers connected within 60 s");
                        }

                        await Task.Delay(10, cancellationToken).ConfigureAwait(false);
                    }
                }

                var started = Stopwatch.GetTimestamp();
                var startedUtc = time.GetUtcNow();
                lastFinal = started;
                var syncedAt = new long[sequences.Count];
                if (options.SequenceInterval > TimeSpan.Zero)
                {
                    for (var i = 0; i < sequences.Count; i++)
                    {
                        var due = options.SequenceInterval * i - Stopwatch.GetElapsedTime(started);
                        if (due > TimeSpan.Zero)
                        {
                            await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                        }

                        await generator.AddSequenceAsync(sequences[i], cancellationToken).ConfigureAwait(false);
                        syncedAt[i] = Stopwatch.GetTimestamp();
                    }
                }
                else
                {
                    // All synced at once: the adds share group commits, as a sync of many sequences would.
                    await Task.WhenAll(sequences.Select(async (sequence, i) =>
                    {
                        await generator.AddSequenceAsync(sequence, cancellationToken).ConfigureAwait(false);
                        syncedAt[i] = Stopwatch.GetTimestamp();
                    })).ConfigureAwait(false);
                }

                using (var reporter = new PeriodicTimer(TimeSpan.FromMilliseconds(500)))
                {
                    while (!allDone.Task.IsCompleted)
                    {
                        await Task.WhenAny(allDone.Task, reporter.WaitForNextTickAsync(cancellationToken).AsTask()).ConfigureAwait(false);
                        cancellationToken.ThrowIfCancellationRequested();
                        progress?.Report((metrics.CompletedTotal, totalTasks));
                        runPeakRss = Math.Max(runPeakRss, Memory.Rss());
                    }
                }

                runPeakRss = Math.Max(runPeakRss, Memory.Rss());

                var elapsed = Stopwatch.GetElapsedTime(started, lastFinal);
                var samples = metrics.DispatchSamples();
                Array.Sort(samples);
                var analysis = Analyse(new RunRecord(sequences, syncedAt, storedAt, started, startedUtc, metrics.DispatchRecords(),
                    provers.SelectMany(p => p.JobTimings()).ToArray(), Enumerable.Range(0, options.Provers).Sum(options.SpeedOf),
                    options.Provers > 0 ? Enumerable.Range(0, options.Provers).Max(options.SpeedOf) : 1));
                var ideal = analysis.IdealMakespan;
                var tasksPerSecond = metrics.CompletedTotal / elapsed.TotalSeconds;
                double? limit = roundTrips is { } r && storeCompletions is { } w ? Math.Min(r / 2, w) : null;
                var proofBytesStored = await store.StoredProofBytesAsync(cancellationToken).ConfigureAwait(false);
                double? rawRate = null;
                if (options.ProofBytes > 0 && proofBytesStored > 0)
                {
                    log.LogInformation("Measuring the raw write+fsync rate of {Bytes} bytes next to the database", proofBytesStored);
                    rawRate = Memory.RawWriteFsyncMbPerSecond(Path.GetDirectoryName(Path.GetFullPath(dbPath))!, proofBytesStored, options.ProofBytes,
                        cancellationToken);
                }

                return new GeneratorBenchmarkResult
                {
                    RoundTripsPerSecond = roundTrips is { } rr ? Math.Round(rr, 1) : null,
                    StoreCompletionsPerSecond = storeCompletions is { } ww ? Math.Round(ww, 1) : null,
                    LimitTasksPerSecond = limit is { } l ? Math.Round(l, 1) : null,
                    Efficiency = limit is { } lim && lim > 0 ? Math.Round(tasksPerSecond / lim, 3) : null,
                    DispatchE2eP50Ms = Math.Round(Percentile(analysis.EndToEnd, 0.50), 3),
                    DispatchE2eP99Ms = Math.Round(Percentile(analysis.EndToEnd, 0.99), 3),
                    DispatchE2eMaxMs = Math.Round(analysis.EndToEnd.Length == 0 ? 0 : analysis.EndToEnd[^1], 3),
                    DispatchE2eSamples = analysis.EndToEnd.Length,
                    PollLagP50Ms = Math.Round(Percentile(analysis.PollLag, 0.50), 3),
                    PollLagP99Ms = Math.Round(Percentile(analysis.PollLag, 0.99), 3),
                    AnswerToRequestP50Ms = Math.Round(Percentile(analysis.AnswerToRequest, 0.50), 3),
                    AnswerToRequestP99Ms = Math.Round(Percentile(analysis.AnswerToRequest, 0.99), 3),
                    CriticalPathMs = Math.Round(analysis.CriticalPath.TotalMilliseconds, 1),
                    SequenceLatencyRatio = analysis.SequenceRatios.Length > 0 ? Math.Round(analysis.SequenceRatios.Average(), 3) : null,
                    SequenceLatencyRatioP99 = analysis.SequenceRatios.Length > 0 ? Math.Round(Percentile(analysis.SequenceRatios, 0.99), 3) : null,
                    SequenceLatencyP50Ms = Math.Round(Percentile(analysis.SequenceLatencies, 0.50), 1),
                    SequenceLatencyP99Ms = Math.Round(Percentile(analysis.SequenceLatencies, 0.99), 1),
                    LatencyJitter = options.LatencyJitter,
                    ProverSpeeds = string.Join(",", options.ProverSpeeds.Select(x => x.ToString(System.Globalization.CultureInfo.InvariantCulture))),
                    SequenceIntervalMs = options.SequenceInterval.TotalMilliseconds,
                    LongPoll = options.LongPoll,
                    Provers = options.Provers,
                    Sequences = sequences.Count,
                    Batches = batches,
                    TasksCompleted = metrics.CompletedTotal,
                    FinalProofs = await store.CountFinalProofsAsync(cancellationToken).ConfigureAwait(false),
                    ElapsedMs = Math.Round(elapsed.TotalMilliseconds, 1),
                    TasksPerSecond = Math.Round(tasksPerSecond, 1),
                    DispatchP50Ms = Math.Round(Percentile(samples, 0.50), 3),
                    DispatchP99Ms = Math.Round(Percentile(samples, 0.99), 3),
                    DispatchMaxMs = Math.Round(samples.Length == 0 ? 0 : samples[^1], 3),
                    MakespanRatio = ideal > TimeSpan.Zero ? Math.Round(elapsed / ideal, 3) : null,
                    IdealMakespanMs = Math.Round(ideal.TotalMilliseconds, 1),
                    MaxAggregationDepth = sequences.Max(s => AggregationTree.Depth((ulong)s.Batches.Count)),
                    TasksRetried = metrics.Retries,
                    StoreCommits = store.Commits,
                    StoreWrites = store.Writes,
                    Seed = options.Seed,
                    SqliteSynchronous = store.Synchronous,
                    ProverLatencyMs = options.ProverLatency.TotalMilliseconds,
                    PeakRssMb = Math.Round(Memory.PeakRss() / 1e6, 1),
                    RssBeforeProversMb = Math.Round(rssBefore / 1e6, 1),
                    RunPeakRssMb = Math.Round(runPeakRss / 1e6, 1),
                    MemoryPerSessionKb = options.Provers > 0 ? Math.Round((runPeakRss - rssBefore) / 1e3 / options.Provers, 1) : null,
                    ProofBytes = options.ProofBytes,
                    ProofMbStored = Math.Round(proofBytesStored / 1e6, 1),
                    ProofMbPerSecond = Math.Round(proofBytesStored / 1e6 / elapsed.TotalSeconds, 2),
                    RawWriteFsyncMbPerSecond = rawRate is { } raw ? Math.Round(raw, 2) : null,
                };
            }
            finally
            {
                await Task.WhenAll(provers.Select(p => p.StopAsync())).ConfigureAwait(false);
                foreach (var prover in provers)
                {
                    await prover.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (temp is not null)
            {
                try
                {
                    Directory.Delete(temp, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    /// <summary>The made-up devnet sequences of a run, drawn with <see cref="GeneratorBenchmarkOptions.Seed"/>; their batch inputs are
    /// built as the sync builds them in production (chain and fork id, old roots, batch data, timestamp, global exit root,
    /// sequencer, and the miner's address as <c>aggregator_addr</c>).</summary>
    internal static List<SequenceInput> BuildSequences(GeneratorBenchmarkOptions options)
    {
        var random = new Random(options.Seed);
        var builder = new DevnetSequenceBuilder(random, "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", 1001, 6) { TransactionSize = options.BatchBytes };
        var sequences = new List<SequenceInput>(options.Sequences);
        DevnetSequence? previous = null;
        for (var i = 0; i < options.Sequences; i++)
        {
            var count = random.Next(1, options.MaxBatches + 1);
            var sequence = previous is null ? builder.FromGenesis(count) : builder.After(previous, count);
            sequences.Add(new SequenceInput(sequence.InitNumBatch, sequence.FinalNewBatch,
                [.. sequence.Batches.Select(b => new BatchInput(b.Number, b.ToInputProver(1001, 6, MinerAddress).ToByteArray()))]));
            previous = sequence;
        }

        return sequences;
    }

    /// <summary>The prover server of a run with <paramref name="provers"/> in-process provers: they all dial from loopback, so one
    /// principal holds every session.</summary>
    private static ProverServerOptions ServerOptions(int provers, int port) => new()
    {
        Port = port,
        MaxSessionsPerPrincipal = Math.Max(64, (provers * 2) + 16),
        MaxConnections = Math.Max(1024, (provers * 2) + 16),
    };

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
