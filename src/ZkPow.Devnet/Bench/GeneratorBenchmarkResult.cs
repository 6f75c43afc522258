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
    public required double DispatchP50Ms { get; init; }
    public required double DispatchP99Ms { get; init; }
    public required double DispatchMaxMs { get; init; }

    /// <summary>Measured makespan ÷ ideal makespan (null when the provers have no latency: the ideal is 0).</summary>
    public required double? MakespanRatio { get; init; }

    public required double IdealMakespanMs { get; init; }
    public required int MaxAggregationDepth { get; init; }
    public required long TasksRetried { get; init; }
    public required long StoreCommits { get; init; }
    public required long StoreWrites { get; init; }
    public required int Seed { get; init; }
    public required string SqliteSynchronous { get; init; }
    public required double ProverLatencyMs { get; init; }
}
