using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Protocol;
using ZkPow.Aggregator.Storage;
using ZkPow.Devnet.Proof;
using ZkPow.Devnet.Prover;
using ZkPow.Devnet.Storage;

namespace ZkPow.Devnet.Bench;

/// <summary>
/// Runs the Proof Generator in-process against mock provers over real gRPC on loopback and the real SQLite store at
/// its durable settings (or, with <c>--store postgres</c>, one or more generators as replicas on one durable PostgreSQL
/// database), proves made-up devnet sequences to stored final proofs and measures throughput, dispatch
/// latency, makespan and sequence latency against the ideal, and, in the same run, the two limits the throughput lives
/// under (gRPC round trips and durable store completions).
/// </summary>
public sealed partial class GeneratorBenchmark(GeneratorBenchmarkOptions options, ILoggerFactory loggers, IProgress<(long Done, long Total)>? progress = null)
{
    /// <summary>The address final proofs are bound to in the benchmark (anvil's account 1).</summary>
    public const string MinerAddress = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    private WarmUpReport? _warmUp;

    public async Task<GeneratorBenchmarkResult> RunAsync(CancellationToken cancellationToken)
    {
        options.Validate();
        if (options.TimelinePath is { } timeline)
        {
            PrepareTimeline(timeline);
        }

        if (options.WarmUp && options.Provers > 0)
        {
            _warmUp = await WarmUpAsync(cancellationToken).ConfigureAwait(false);
        }

        var sequences = BuildSequences(options);
        var temp = string.IsNullOrEmpty(options.DatabasePath) || (options.IsPostgres && options.StoreConnection is null)
            ? Path.Combine(Path.GetTempPath(), $"zkpow-bench-{Guid.NewGuid():N}")
            : null;
        PostgresCluster? cluster = null;
        try
        {
            var connectionString = options.StoreConnection;
            if (options.IsPostgres && connectionString is null)
            {
                (cluster, connectionString) = await StartClusterAsync(Path.Combine(temp!, "postgres"), cancellationToken).ConfigureAwait(false);
            }

            return await RunOnStoreAsync(sequences, temp, connectionString, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            cluster?.Stop();
            if (temp is not null)
            {
                try
                {
                    Directory.Delete(temp, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        }
    }

    /// <summary>
    /// Throw-away runs on a store, generator, prover server and mock provers of their own, so that the two limits and
    /// the measured run all run the code a long-lived aggregator runs, not its first compilation: .NET first compiles a
    /// method quickly and compiles it again, optimised, once it has been called often, on a background thread that takes
    /// its share of the two cores meanwhile. Rounds of up to 60 sequences on the run's provers (with their speeds and
    /// jitter, and a latency of at most <see cref="WarmUpLatency"/>) go on for <see cref="WarmUpTime"/>, then the warm-up
    /// waits, up to as long again, until the JIT has been idle for three 100 ms windows. Nothing of it is shared with the measured run but
    /// compiled code: the job times the generator learns, the store and the provers are the warm-up's own.
    /// </summary>
    private async Task<WarmUpReport> WarmUpAsync(CancellationToken cancellationToken)
    {
        var warm = new GeneratorBenchmarkOptions
        {
            Provers = Math.Min(options.Provers, 64),
            Sequences = Math.Clamp(options.Sequences, 4, WarmUpRoundSequences),
            MaxBatches = Math.Min(options.MaxBatches, 4),
            ProverLatency = options.ProverLatency < WarmUpLatency ? options.ProverLatency : WarmUpLatency,
            ProverSpeeds = options.ProverSpeeds,
            LatencyJitter = options.LatencyJitter,
            LongPoll = options.LongPoll,
            ClaimBeforeSend = options.ClaimBeforeSend,
            MeasureLimits = false,
            WarmUp = false,
            Seed = options.Seed,
            BatchBytes = options.BatchBytes,
            SqliteSynchronous = options.SqliteSynchronous,
        };
        var log = loggers.CreateLogger<GeneratorBenchmark>();
        var clock = Stopwatch.StartNew();
        var methodsBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
        var rounds = 0;
        do
        {
            await new GeneratorBenchmark(warm, NullLoggerFactory.Instance).RunAsync(cancellationToken).ConfigureAwait(false);
            rounds++;
        }
        while (clock.Elapsed < WarmUpTime && options.Sequences >= WarmUpRoundSequences);

        // The optimised compilations run in the background once calls have been counted: wait until the JIT is idle.
        var busy = clock.Elapsed;
        var idle = Stopwatch.StartNew();
        var last = System.Runtime.JitInfo.GetCompilationTime();
        var quiet = 0;
        while (quiet < 3 && idle.Elapsed < busy)
        {
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            var now = System.Runtime.JitInfo.GetCompilationTime();
            quiet = now - last < TimeSpan.FromMilliseconds(1) ? quiet + 1 : 0;
            last = now;
        }

        var report = new WarmUpReport(rounds, warm.Sequences, clock.Elapsed, System.Runtime.JitInfo.GetCompiledMethodCount() - methodsBefore, quiet >= 3);
        log.LogInformation("Warmed up: {Rounds} rounds of {Sequences} sequences on {Provers} provers in {Seconds:F1} s, {Methods} methods compiled, JIT {State}",
            rounds, warm.Sequences, warm.Provers, report.Elapsed.TotalSeconds, report.Methods, report.JitIdle ? "idle" : "still compiling");
        return report;
    }

    private const string ProverNamePrefix = "bench-";

    /// <summary>The name of the run's <paramref name="index"/>th mock prover (its speed is <c>SpeedOf(index)</c>).</summary>
    private static string ProverName(int index) => ProverNamePrefix + index.ToString("D3", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The sequences of a warm-up round; a run with fewer gets one round of its own size.</summary>
    private const int WarmUpRoundSequences = 60;

    /// <summary>How long the warm-up's rounds go on (a run of fewer than 60 sequences gets one round of its size).</summary>
    private static readonly TimeSpan WarmUpTime = TimeSpan.FromSeconds(3);

    /// <summary>The warm-up's prover latency (the run's, if lower): short, so that its rounds are quick, yet taking time, so
    /// that the polling and timer paths of a run with latency are the ones compiled.</summary>
    private static readonly TimeSpan WarmUpLatency = TimeSpan.FromMilliseconds(5);

    private sealed record WarmUpReport(int Rounds, int Sequences, TimeSpan Elapsed, long Methods, bool JitIdle);

    private async Task<GeneratorBenchmarkResult> RunOnStoreAsync(List<SequenceInput> sequences, string? temp, string? connectionString,
        CancellationToken cancellationToken)
    {
        var batches = sequences.Sum(s => s.Batches.Count);
        var totalTasks = sequences.Sum(s => (2 * s.Batches.Count) - 1 + 1);
        var replicas = options.Replicas;
        var dbPath = options.IsPostgres ? null : options.DatabasePath ?? Path.Combine(temp!, "bench.db");
        var time = TimeProvider.System;
        var stores = new List<IAggregatorStore>();
        try
        {
            if (options.IsPostgres)
            {
                // Opened first: a database that is not empty is refused before anything is measured.
                stores.AddRange(await OpenReplicaStoresAsync(connectionString!, replicas, time, cancellationToken).ConfigureAwait(false));
            }

            double? roundTrips = null;
            double? storeCompletions = null;
            if (options.Provers > 0 && options.MeasureLimits)
            {
                var log0 = loggers.CreateLogger<GeneratorBenchmark>();
                log0.LogInformation("Measuring the limits: loopback gRPC round trips and durable store completions");
                roundTrips = await MeasureRoundTripsAsync(sequences, options.Provers, cancellationToken).ConfigureAwait(false);
                var sample = MockProofComputer.Batch(new GenBatchProofRequest { Input = InputProver.Parser.ParseFrom(sequences[0].Batches[0].ProverInput) },
                    6, emptyProof: false, options.ProofBytes).Outcome.RecursiveProof ?? "";
                if (options.IsPostgres)
                {
                    storeCompletions = await MeasurePostgresStoreAsync(sequences, connectionString!, replicas, options.Provers, sample, cancellationToken)
                        .ConfigureAwait(false);
                }
                else
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(dbPath!))!);
                    var limitDb = Path.GetFullPath(dbPath!) + $".limit-{Guid.NewGuid():N}.db";
                    try
                    {
                        storeCompletions = await MeasureSqliteStoreAsync(sequences, limitDb, options.Provers, sample, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        foreach (var file in new[] { limitDb, limitDb + "-wal", limitDb + "-shm" })
                        {
                            File.Delete(file);
                        }
                    }
                }
            }

            if (!options.IsPostgres)
            {
                stores.Add(await SqliteStore.OpenAsync(
                    new StoreOptions { SqlitePath = dbPath!, SqliteSynchronous = options.SqliteSynchronous }, time, cancellationToken).ConfigureAwait(false));
            }

            return await RunReplicasAsync(sequences, stores, batches, totalTasks, dbPath, roundTrips, storeCompletions, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The run proper: one generator per store (replica), each with its own prover server and its share of the
    /// provers (prover i dials replica i mod N); the sequences are added through replica 0, as the leader's sync does.</summary>
    private async Task<GeneratorBenchmarkResult> RunReplicasAsync(List<SequenceInput> sequences, List<IAggregatorStore> stores, int batches, long totalTasks,
        string? dbPath, double? roundTrips, double? storeCompletions, CancellationToken cancellationToken)
    {
        var time = TimeProvider.System;
        // The mocks' held GetProof answers leave when their job ends, not when a whole-millisecond system timer fires.
        using var proverTime = new PreciseTimeProvider();
        var replicas = stores.Count;
        var metrics = new List<GeneratorMetrics>(replicas);
        var generators = new List<ProofGenerator>(replicas);
        var servers = new List<ProverServer>(replicas);
        var provers = new List<MockProver>();
        try
        {
            // A resumed run (same --db) counts the final proofs stored before it.
            var finals = await stores[0].CountFinalProofsAsync(cancellationToken).ConfigureAwait(false);
            var allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var lastFinal = Stopwatch.GetTimestamp();
            var storedAt = new ConcurrentDictionary<ulong, long>();
            if (finals >= sequences.Count)
            {
                allDone.TrySetResult();
            }

            for (var r = 0; r < replicas; r++)
            {
                var replicaMetrics = new GeneratorMetrics { KeepDispatchRecords = true };
                metrics.Add(replicaMetrics);
                var generator = new ProofGenerator(stores[r], new GeneratorOptions { ClaimBeforeSend = options.ClaimBeforeSend }, MinerAddress, replicaMetrics, loggers.CreateLogger<ProofGenerator>(), time);
                generators.Add(generator);
                generator.FinalProofStored += record =>
                {
                    var now = Stopwatch.GetTimestamp();
                    // Replicas store final proofs side by side: the run ends at the latest.
                    for (var seen = Interlocked.Read(ref lastFinal); now > seen; seen = Interlocked.Read(ref lastFinal))
                    {
                        if (Interlocked.CompareExchange(ref lastFinal, now, seen) == seen)
                        {
                            break;
                        }
                    }

                    storedAt[record.FinalBatch] = now;
                    if (Interlocked.Increment(ref finals) >= sequences.Count)
                    {
                        allDone.TrySetResult();
                    }
                };
                await generator.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            var sessions = new ProverSessionOptions();
            var external = options.Provers == 0;
            for (var r = 0; r < replicas; r++)
            {
                var share = (options.Provers / replicas) + (r < options.Provers % replicas ? 1 : 0);
                servers.Add(await ProverServer.StartAsync(ServerOptions(share, external ? options.ProverPort : 0), sessions, generators[r],
                    loggers, time, cancellationToken).ConfigureAwait(false));
            }

            var log = loggers.CreateLogger<GeneratorBenchmark>();
            var rssBefore = Memory.Rss();
            var runPeakRss = rssBefore;
            for (var i = 0; i < options.Provers; i++)
            {
                var prover = new MockProver(new MockProverOptions
                {
                    Aggregator = servers[i % replicas].Address,
                    Name = ProverName(i),
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
                }, proverTime);
                provers.Add(prover);
                _ = prover.RunAsync(cancellationToken);
            }

            if (external)
            {
                log.LogInformation("Waiting for external provers on port {Port}", servers[0].Port);
            }
            else
            {
                var wait = Stopwatch.StartNew();
                while (metrics.Sum(m => m.ConnectedProvers) < options.Provers)
                {
                    if (wait.Elapsed > TimeSpan.FromSeconds(60))
                    {
                        throw new TimeoutException($"only {metrics.Sum(m => m.ConnectedProvers)} of {options.Provers} provers connected within 60 s");
                    }

                    await Task.Delay(10, cancellationToken).ConfigureAwait(false);
                }
            }

            var jitBefore = System.Runtime.JitInfo.GetCompilationTime();
            var started = Stopwatch.GetTimestamp();
            var startedUtc = time.GetUtcNow();
            Interlocked.Exchange(ref lastFinal, started);
            var syncedAt = new long[sequences.Count];
            var leader = generators[0];
            if (options.SequenceInterval > TimeSpan.Zero)
            {
                for (var i = 0; i < sequences.Count; i++)
                {
                    var due = options.SequenceInterval * i - Stopwatch.GetElapsedTime(started);
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                    }

                    await leader.AddSequenceAsync(sequences[i], cancellationToken).ConfigureAwait(false);
                    syncedAt[i] = Stopwatch.GetTimestamp();
                }
            }
            else
            {
                // All synced at once: the adds share group commits, as a sync of many sequences would.
                await Task.WhenAll(sequences.Select(async (sequence, i) =>
                {
                    await leader.AddSequenceAsync(sequence, cancellationToken).ConfigureAwait(false);
                    syncedAt[i] = Stopwatch.GetTimestamp();
                })).ConfigureAwait(false);
            }

            long Completed() => metrics.Sum(m => m.CompletedTotal);
            using (var reporter = new PeriodicTimer(TimeSpan.FromMilliseconds(500)))
            {
                while (!allDone.Task.IsCompleted)
                {
                    await Task.WhenAny(allDone.Task, reporter.WaitForNextTickAsync(cancellationToken).AsTask()).ConfigureAwait(false);
                    cancellationToken.ThrowIfCancellationRequested();
                    progress?.Report((Completed(), totalTasks));
                    runPeakRss = Math.Max(runPeakRss, Memory.Rss());
                }
            }

            runPeakRss = Math.Max(runPeakRss, Memory.Rss());

            var elapsed = Stopwatch.GetElapsedTime(started, Interlocked.Read(ref lastFinal));
            var jitDuringRun = System.Runtime.JitInfo.GetCompilationTime() - jitBefore;
            var samples = metrics.SelectMany(m => m.DispatchSamples()).ToArray();
            Array.Sort(samples);
            var runRecord = new RunRecord(sequences, syncedAt, storedAt, started, startedUtc, [.. metrics.SelectMany(m => m.DispatchRecords())],
                provers.SelectMany(p => p.JobTimings()).ToArray(), [.. Enumerable.Range(0, options.Provers).Select(options.SpeedOf)]);
            var analysis = Analyse(runRecord);
            if (options.TimelinePath is { } timelinePath)
            {
                try
                {
                    await WriteTimelineAsync(timelinePath, runRecord, cancellationToken).ConfigureAwait(false);
                    log.LogInformation("Wrote the run's schedule to {Path}", timelinePath);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // The figures of the run are still reported.
                    log.LogError("Could not write the run's schedule to {Path}: {Error}", timelinePath, ex.Message);
                }
            }

            var ideal = analysis.IdealMakespan;
            var completed = Completed();
            var tasksPerSecond = completed / elapsed.TotalSeconds;
            double? limit = roundTrips is { } r2 && storeCompletions is { } w ? Math.Min(r2 / 2, w) : null;
            var sqlite = stores[0] as SqliteStore;
            var postgres = stores[0] as PostgresStore;
            var proofBytesStored = sqlite is not null
                ? await sqlite.StoredProofBytesAsync(cancellationToken).ConfigureAwait(false)
                : await postgres!.StoredProofBytesAsync(cancellationToken).ConfigureAwait(false);
            double? rawRate = null;
            if (options.ProofBytes > 0 && proofBytesStored > 0 && dbPath is not null)
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
                UnlockP50Ms = Math.Round(Percentile(analysis.Unlock, 0.50), 3),
                UnlockP99Ms = Math.Round(Percentile(analysis.Unlock, 0.99), 3),
                UnlockSamples = analysis.Unlock.Length,
                FleetBusyShare = analysis.Fleet is { } f ? Math.Round(f.Busy, 3) : null,
                FleetBetweenJobsShare = analysis.Fleet is { } g ? Math.Round(g.BetweenJobs, 3) : null,
                FleetStarvedShare = analysis.Fleet is { } h ? Math.Round(h.Starved, 3) : null,
                CriticalPathMs = Math.Round(analysis.CriticalPath.TotalMilliseconds, 1),
                SequenceLatencyRatio = analysis.SequenceRatios.Length > 0 ? Math.Round(analysis.SequenceRatios.Average(), 3) : null,
                SequenceLatencyRatioP99 = analysis.SequenceRatios.Length > 0 ? Math.Round(Percentile(analysis.SequenceRatios, 0.99), 3) : null,
                SequenceLatencyP50Ms = Math.Round(Percentile(analysis.SequenceLatencies, 0.50), 1),
                SequenceLatencyP99Ms = Math.Round(Percentile(analysis.SequenceLatencies, 0.99), 1),
                LatencyJitter = options.LatencyJitter,
                ProverSpeeds = string.Join(",", options.ProverSpeeds.Select(x => x.ToString(System.Globalization.CultureInfo.InvariantCulture))),
                SequenceIntervalMs = options.SequenceInterval.TotalMilliseconds,
                LongPoll = options.LongPoll,
                WarmUp = options.WarmUp && options.Provers > 0,
                WarmUpRounds = _warmUp?.Rounds ?? 0,
                WarmUpSequences = _warmUp?.Sequences ?? 0,
                WarmUpMs = Math.Round(_warmUp?.Elapsed.TotalMilliseconds ?? 0, 1),
                WarmUpJitIdle = _warmUp?.JitIdle,
                JitMsDuringRun = Math.Round(jitDuringRun.TotalMilliseconds, 1),
                ClaimBeforeSend = options.ClaimBeforeSend || options.Store == "postgres",
                Provers = options.Provers,
                Sequences = sequences.Count,
                Batches = batches,
                TasksCompleted = completed,
                FinalProofs = await stores[0].CountFinalProofsAsync(cancellationToken).ConfigureAwait(false),
                ElapsedMs = Math.Round(elapsed.TotalMilliseconds, 1),
                TasksPerSecond = Math.Round(tasksPerSecond, 1),
                DispatchP50Ms = Math.Round(Percentile(samples, 0.50), 3),
                DispatchP99Ms = Math.Round(Percentile(samples, 0.99), 3),
                DispatchMaxMs = Math.Round(samples.Length == 0 ? 0 : samples[^1], 3),
                MakespanRatio = ideal > TimeSpan.Zero ? Math.Round(elapsed / ideal, 3) : null,
                PolicyMakespanRatio = ideal > TimeSpan.Zero && analysis.PolicyMakespan > TimeSpan.Zero ? Math.Round(analysis.PolicyMakespan / ideal, 3) : null,
                PolicySequenceLatencyRatio = analysis.PolicySequenceRatios.Length > 0 ? Math.Round(analysis.PolicySequenceRatios.Average(), 3) : null,
                IdealMakespanMs = Math.Round(ideal.TotalMilliseconds, 1),
                MaxAggregationDepth = sequences.Max(s => AggregationTree.Depth((ulong)s.Batches.Count)),
                TasksRetried = metrics.Sum(m => m.Retries),
                StoreCommits = sqlite?.Commits,
                StoreWrites = sqlite?.Writes,
                Seed = options.Seed,
                Store = postgres is not null ? StoreOptions.PostgresProvider : StoreOptions.SqliteProvider,
                Replicas = replicas,
                TasksCompletedPerReplica = [.. metrics.Select(m => m.CompletedTotal)],
                ClaimsLost = metrics.Sum(m => m.ClaimsLost),
                SqliteSynchronous = sqlite?.Synchronous,
                PostgresFsync = postgres is not null ? await postgres.ShowAsync("fsync", cancellationToken).ConfigureAwait(false) : null,
                PostgresSynchronousCommit = postgres is not null ? await postgres.ShowAsync("synchronous_commit", cancellationToken).ConfigureAwait(false) : null,
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

            foreach (var server in servers)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var generator in generators)
            {
                await generator.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var m in metrics)
            {
                m.Dispose();
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
