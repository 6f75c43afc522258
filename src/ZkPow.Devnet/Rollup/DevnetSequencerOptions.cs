using ZkPow.Aggregator.Chain;

namespace ZkPow.Devnet.Rollup;

/// <summary>How the devnet sequencer makes batches.</summary>
public sealed class DevnetSequencerOptions
{
    /// <summary>Seed of the random batch data (same seed, same batches). Example: <c>1</c>.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The most batches per sequence (K); each sequence has 1..K. Example: <c>3</c>.</summary>
    public int MaxBatchesPerSequence { get; init; } = 3;

    /// <summary>Bytes of random L2 data per batch. Example: <c>4096</c>.</summary>
    public int BatchDataSize { get; init; } = 4096;

    /// <summary>Time between two <c>sequenceBatches</c> calls when running. Example: <c>3s</c>.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The L2 coinbase of the sequences (lower-case 0x-hex). Example: <c>0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc</c>.</summary>
    public string Coinbase { get; init; } = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";

    public void Validate()
    {
        if (MaxBatchesPerSequence is < 1 or > 1000)
        {
            throw new ArgumentException("MaxBatchesPerSequence must be between 1 and 1000");
        }

        if (BatchDataSize is < 0 or > 120_000)
        {
            throw new ArgumentException("BatchDataSize must be between 0 and 120000 bytes");
        }

        if (Interval < TimeSpan.FromMilliseconds(10))
        {
            throw new ArgumentException("Interval must be at least 10ms");
        }

        _ = HexData.DecodeAddress(Coinbase);
    }
}
