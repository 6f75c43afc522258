using System.Numerics;

namespace ZkPow.Aggregator.Chain;

/// <summary>The reads that come before a transaction is signed: the pre-flight <c>eth_call</c>, the gas limit (the
/// estimate, or the fixed limit) and the fees, for the call they were made for.</summary>
internal sealed record Preflight(Task<ChainCallResult<byte[]>> Call, Task<(ulong GasLimit, ChainRevert? Revert)> Estimate, Task<FeeSuggestion> Fees)
{
    public required string To { get; init; }

    public required byte[] Data { get; init; }

    public required BigInteger Value { get; init; }

    /// <summary>The fixed gas limit asked for, 0 for the estimate.</summary>
    public required ulong GasLimit { get; init; }

    /// <summary>When the reads were started (Unix ms of the manager's clock).</summary>
    public required long StartedAtMs { get; init; }

    /// <summary>True if these reads were made for the call <paramref name="request"/> makes.</summary>
    public bool IsFor(TxRequest request) =>
        string.Equals(To, request.To, StringComparison.OrdinalIgnoreCase) && Data.AsSpan().SequenceEqual(request.Data) && Value == request.Value
        && GasLimit == (request.GasLimit ?? 0);

    /// <summary>Marks the failures of <paramref name="reads"/> observed (reads that end up unused are simply dropped; an awaited
    /// one still throws) and returns them.</summary>
    public static Preflight Observed(Preflight reads)
    {
        ArgumentNullException.ThrowIfNull(reads);
        foreach (var task in new Task[] { reads.Call, reads.Estimate, reads.Fees })
        {
            _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return reads;
    }
}
