namespace ZkPow.Devnet.Bench;

/// <summary>What the transaction benchmark measured (printed as JSON with <c>--json</c>).</summary>
public sealed record TxBenchmarkResult
{
    public required int Transactions { get; init; }
    public required int Concurrency { get; init; }
    public required int Confirmations { get; init; }
    public required double ElapsedMs { get; init; }

    /// <summary>Transactions from first submission to all confirmed, per second.</summary>
    public required double ConfirmedTxPerSecond { get; init; }

    /// <summary>Time for a submission to return (pre-flight, gas estimate, sign and store, broadcast).</summary>
    public required double SubmitP50Ms { get; init; }
    public required double SubmitP99Ms { get; init; }

    /// <summary>Time from submission to confirmation.</summary>
    public required double ConfirmP50Ms { get; init; }
    public required double ConfirmP99Ms { get; init; }

    public required int Failed { get; init; }
    public required long StoreCommits { get; init; }
    public required long StoreWrites { get; init; }
    public required string SqliteSynchronous { get; init; }
}
