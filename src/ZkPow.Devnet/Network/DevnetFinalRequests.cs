namespace ZkPow.Devnet.Network;

/// <summary>A sequence whose final proof the mock provers were asked for more than once (all provers of the miner).</summary>
public sealed record DevnetFinalRequests
{
    public required string Miner { get; init; }
    public required ulong InitBatch { get; init; }
    public required ulong FinalBatch { get; init; }

    /// <summary>GenFinalProof requests the provers received for the sequence.</summary>
    public required int Requests { get; init; }

    /// <summary>Cancels the aggregator sent for those final jobs (a cancel for exceeding the maximum job time, or a
    /// replica's stop).</summary>
    public required int Cancels { get; init; }
}
