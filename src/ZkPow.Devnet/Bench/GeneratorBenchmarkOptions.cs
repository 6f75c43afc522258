namespace ZkPow.Devnet.Bench;

/// <summary>Settings of the proof-generator benchmark (<c>zkpow bench</c>).</summary>
public sealed class GeneratorBenchmarkOptions
{
    /// <summary>In-process mock provers; 0 serves the sequences to external provers on <see cref="ProverPort"/>.</summary>
    public int Provers { get; set; } = 64;

    public int Sequences { get; set; } = 1000;

    /// <summary>Batches per sequence are drawn uniformly from 1..MaxBatches with <see cref="Seed"/>.</summary>
    public int MaxBatches { get; set; } = 8;

    /// <summary>Latency of every task kind on the mock provers.</summary>
    public TimeSpan ProverLatency { get; set; } = TimeSpan.Zero;

    public int Seed { get; set; } = 1;

    /// <summary>Port for external provers when <see cref="Provers"/> is 0.</summary>
    public int ProverPort { get; set; } = 50081;

    /// <summary>Bytes of random L2 data per batch.</summary>
    public int BatchBytes { get; set; } = 256;

    /// <summary>Database file; empty = a fresh temporary file, removed afterwards.</summary>
    public string? DatabasePath { get; set; }

    /// <summary>SQLite synchronous setting (FULL is the durable default).</summary>
    public string SqliteSynchronous { get; set; } = "FULL";

    public void Validate()
    {
        if (Provers is < 0 or > 4096)
        {
            throw new ArgumentException("--provers must be between 0 and 4096");
        }

        if (Sequences is < 1 or > 1_000_000)
        {
            throw new ArgumentException("--sequences must be between 1 and 1000000");
        }

        if (MaxBatches is < 1 or > 1024)
        {
            throw new ArgumentException("--max-batches must be between 1 and 1024");
        }

        if (ProverLatency < TimeSpan.Zero)
        {
            throw new ArgumentException("--prover-latency must not be negative");
        }

        if (BatchBytes is < 0 or > 1_000_000)
        {
            throw new ArgumentException("--batch-bytes must be between 0 and 1000000");
        }
    }
}
