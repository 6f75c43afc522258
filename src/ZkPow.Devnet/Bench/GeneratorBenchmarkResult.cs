namespace ZkPow.Devnet.Bench;

/// <summary>What the proof-generator benchmark measured (printed as JSON with <c>--json</c>).</summary>
public sealed record GeneratorBenchmarkResult
{
    public required int Provers { get; init; }
    public required int Sequences { get; init; }
    public required int Batches { get; init; }
    public required long TasksCompleted { get; init; }
    public required long FinalProofs { get; init; }
    public required double ElapsedMs { get; init; }
    public required double TasksPerSecond { get; init; }

    /// <summary>R: loopback gRPC request→response pairs per second with the same number of mock provers and nothing
    /// behind them (null when not measured).</summary>
    public required double? RoundTripsPerSecond { get; init; }

    /// <summary>W: durable task completions per second of the same rows through the same store kind (the same number of
    /// PostgreSQL stores as replicas), no gRPC.</summary>
    public required double? StoreCompletionsPerSecond { get; init; }

    /// <summary>min(R / 2, W): a task needs at least two round trips (its Gen request and one GetProof).</summary>
    public required double? LimitTasksPerSecond { get; init; }

    /// <summary>Tasks per second ÷ <see cref="LimitTasksPerSecond"/>.</summary>
    public required double? Efficiency { get; init; }

    /// <summary>Ready task and idle prover (by the aggregator's bookkeeping) to request written.</summary>
    public required double DispatchP50Ms { get; init; }
    public required double DispatchP99Ms { get; init; }
    public required double DispatchMaxMs { get; init; }

    /// <summary>From the later of "the prover's previous job ended (its proof available at the prover)" and "the task
    /// became ready" to "the next request written": poll lag and status round trips included.</summary>
    public required double DispatchE2eP50Ms { get; init; }
    public required double DispatchE2eP99Ms { get; init; }
    public required double DispatchE2eMaxMs { get; init; }
    public required int DispatchE2eSamples { get; init; }

    /// <summary>Part of the end-to-end latency, for provers that had work waiting: job ended at the prover → its proof
    /// received by the aggregator.</summary>
    public required double PollLagP50Ms { get; init; }
    public required double PollLagP99Ms { get; init; }

    /// <summary>The other part: proof received → next request written (bookkeeping, scheduling, claim, request built).</summary>
    public required double AnswerToRequestP50Ms { get; init; }
    public required double AnswerToRequestP99Ms { get; init; }

    /// <summary>On each sequence's chain: the later of an aggregation's or a final's input proofs received → that task ready
    /// (storing the input proof, which creates the task), p50 / p99 over the aggregations and finals.</summary>
    public required double UnlockP50Ms { get; init; }
    public required double UnlockP99Ms { get; init; }
    public required int UnlockSamples { get; init; }

    /// <summary>Where the fleet's capacity went (each prover's time × its speed, from the run's start to the last job's end;
    /// the three add up to 1; null for zero-latency provers): computing.</summary>
    public required double? FleetBusyShare { get; init; }

    /// <summary>Between a prover's jobs while a task was ready for it: from the later of its job's end and the task ready to
    /// the next request received at the prover (the proof fetched, the next request built and sent). What the execution
    /// costs per job.</summary>
    public required double? FleetBetweenJobsShare { get; init; }

    /// <summary>Waiting with no task ready (before the first job, between jobs, after the last): what the work's shape and
    /// the policy leave idle.</summary>
    public required double? FleetStarvedShare { get; init; }

    /// <summary>Measured makespan ÷ ideal makespan (null when the provers have no latency: the ideal is 0).</summary>
    public required double? MakespanRatio { get; init; }

    /// <summary>The generator's policy alone: the makespan of its order and picking rules played out on the same drawn work
    /// and the same provers with no overhead (see PolicySimulation), ÷ the ideal makespan (null for zero-latency provers).
    /// The run's ratio less this one is what the execution costs.</summary>
    public required double? PolicyMakespanRatio { get; init; }

    /// <summary>The same simulated schedule's mean sequence latency ratio (each sequence's final job ended, less its sync,
    /// ÷ its ideal latency).</summary>
    public required double? PolicySequenceLatencyRatio { get; init; }

    /// <summary>The larger of the latest (sync offset + critical path) and the drawn work spread over the fleet's speed.</summary>
    public required double IdealMakespanMs { get; init; }

    /// <summary>The longest critical path of a sequence, from the work drawn for its jobs, on the fastest prover.</summary>
    public required double CriticalPathMs { get; init; }

    /// <summary>Mean over sequences of (synced → final stored) ÷ its ideal latency (its critical path, or the fleet's time
    /// for its work and that of the sequences before it if that is longer); null for zero-latency provers.</summary>
    public required double? SequenceLatencyRatio { get; init; }

    public required double? SequenceLatencyRatioP99 { get; init; }
    public required double SequenceLatencyP50Ms { get; init; }
    public required double SequenceLatencyP99Ms { get; init; }
    public required int MaxAggregationDepth { get; init; }
    public required long TasksRetried { get; init; }

    /// <summary>SQLite commits and writes of the run (null with PostgreSQL).</summary>
    public required long? StoreCommits { get; init; }

    public required long? StoreWrites { get; init; }
    public required int Seed { get; init; }

    /// <summary>The store the run used: <c>sqlite</c> or <c>postgres</c>.</summary>
    public required string Store { get; init; }

    /// <summary>Generators (aggregator replicas) sharing the work through the database; 1 with SQLite.</summary>
    public required int Replicas { get; init; }

    /// <summary>Tasks completed by each replica's generator, replica 0 first (replica 0 also added the sequences).</summary>
    public required IReadOnlyList<long> TasksCompletedPerReplica { get; init; }

    /// <summary>Claims a replica's generator lost to another replica (it sent no request for them), over the replicas.</summary>
    public required long ClaimsLost { get; init; }

    /// <summary>SQLite's synchronous setting (null with PostgreSQL).</summary>
    public required string? SqliteSynchronous { get; init; }

    /// <summary>PostgreSQL's <c>fsync</c> as the server reports it (<c>SHOW fsync</c>; null with SQLite).</summary>
    public required string? PostgresFsync { get; init; }

    /// <summary>PostgreSQL's <c>synchronous_commit</c> as the server reports it (null with SQLite).</summary>
    public required string? PostgresSynchronousCommit { get; init; }
    public required double ProverLatencyMs { get; init; }
    public required double LatencyJitter { get; init; }
    public required string ProverSpeeds { get; init; }
    public required double SequenceIntervalMs { get; init; }

    /// <summary>Whether the mock provers honoured GetProof's timeout (long poll).</summary>
    public required bool LongPoll { get; init; }

    /// <summary>Whether throw-away runs (their own store, generator and provers) came first, so that the limits and the
    /// measured run ran optimised code.</summary>
    public required bool WarmUp { get; init; }

    /// <summary>How many throw-away runs the warm-up made, and of how many sequences each.</summary>
    public required int WarmUpRounds { get; init; }

    public required int WarmUpSequences { get; init; }

    /// <summary>How long the warm-up took, its wait for the JIT included.</summary>
    public required double WarmUpMs { get; init; }

    /// <summary>Whether the JIT had gone idle when the warm-up ended (null: no warm-up).</summary>
    public required bool? WarmUpJitIdle { get; init; }

    /// <summary>Time the JIT spent compiling during the measured run, on any thread (ms): what the run still paid for
    /// compiling.</summary>
    public required double JitMsDuringRun { get; init; }

    /// <summary>Whether every request waited for its claim to commit.</summary>
    public required bool ClaimBeforeSend { get; init; }

    /// <summary>Peak resident memory of the whole benchmark process (aggregator and in-process mock provers), MB.</summary>
    public required double PeakRssMb { get; init; }

    /// <summary>Resident memory just before the run's mock provers were started, MB.</summary>
    public required double RssBeforeProversMb { get; init; }

    /// <summary>Highest resident memory sampled during the run (every 0.5 s and at its end), MB.</summary>
    public required double RunPeakRssMb { get; init; }

    /// <summary>(<see cref="RunPeakRssMb"/> − <see cref="RssBeforeProversMb"/>) ÷ provers, KB: the memory one prover
    /// session costs, both ends counted (the aggregator's session and the in-process mock prover's client); null
    /// with external provers.</summary>
    public required double? MemoryPerSessionKb { get; init; }

    /// <summary>Size of the recursive proofs the mock provers returned (0 = unpadded).</summary>
    public required int ProofBytes { get; init; }

    /// <summary>Recursive proof bytes stored during the run (sum of the stored proof texts), MB (10^6 bytes).</summary>
    public required double ProofMbStored { get; init; }

    /// <summary><see cref="ProofMbStored"/> ÷ the run's elapsed time.</summary>
    public required double ProofMbPerSecond { get; init; }

    /// <summary>With <see cref="ProofBytes"/> set: the machine's raw rate, measured after the run, of writing the same number
    /// of bytes to a file next to the database, one proof-sized write followed by an fsync at a time, MB/s.</summary>
    public required double? RawWriteFsyncMbPerSecond { get; init; }
}
