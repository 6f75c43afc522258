namespace ZkPow.Aggregator.Generator;

/// <summary>A stored final proof (SNARK) with its public inputs, ready for the Proof Manager.</summary>
public sealed record FinalProofRecord
{
    public required ulong InitBatch { get; init; }
    public required ulong FinalBatch { get; init; }

    /// <summary>The SNARK as the prover sent it (0x-hex).</summary>
    public required string Proof { get; init; }

    /// <summary>The address the proof is bound to (the miner's sender address).</summary>
    public required string AggregatorAddress { get; init; }

    public required byte[] NewStateRoot { get; init; }
    public required byte[] NewAccInputHash { get; init; }
    public required byte[] NewLocalExitRoot { get; init; }
    public required string ProverName { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}
