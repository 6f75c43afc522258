using ZkPow.Aggregator.Chain;

namespace ZkPow.Devnet.Proof;

/// <summary>
/// Builds devnet sequences with random transactions for tests, benchmarks and the devnet rollup. Deterministic for
/// a seeded <see cref="Random"/>. Timestamps and the global exit root carry on from one sequence to the next.
/// Not thread-safe.
/// </summary>
public sealed class DevnetSequenceBuilder
{
    private readonly Random _random;

    public DevnetSequenceBuilder(Random random, string coinbase, ulong chainId, ulong forkId)
    {
        ArgumentNullException.ThrowIfNull(random);
        _ = HexData.DecodeAddress(coinbase);
        _random = random;
        Coinbase = coinbase;
        ChainId = chainId;
        ForkId = forkId;
    }

    public string Coinbase { get; }

    public ulong ChainId { get; }

    public ulong ForkId { get; }

    /// <summary>Bytes of random transaction data per batch (example: 128).</summary>
    public int TransactionSize { get; init; } = 128;

    /// <summary>Seconds between consecutive batch timestamps (example: 12).</summary>
    public ulong TimestampStep { get; init; } = 12;

    /// <summary>Probability (0..1) that a batch brings a new random global exit root instead of the previous one.</summary>
    public double NewGlobalExitRootProbability { get; init; } = 0.25;

    /// <summary>Unix seconds of the last batch built; the next batch gets this plus <see cref="TimestampStep"/>.</summary>
    public ulong LastTimestamp { get; set; } = 1_700_000_000;

    /// <summary>The global exit root of the last batch built (zero at first).</summary>
    public byte[] LastGlobalExitRoot { get; set; } = new byte[32];

    /// <summary>The first sequence after genesis: batches 1..count.</summary>
    public DevnetSequence FromGenesis(int count) =>
        Next(0, DevnetRules.GenesisStateRoot(), DevnetRules.GenesisAccInputHash(), count);

    /// <summary>The sequence that follows <paramref name="previous"/>.</summary>
    public DevnetSequence After(DevnetSequence previous, int count)
    {
        ArgumentNullException.ThrowIfNull(previous);
        return Next(previous.FinalNewBatch, previous.NewStateRoot, previous.NewAccInputHash, count);
    }

    /// <summary>Batches previousBatch+1 .. previousBatch+count on top of the given roots.</summary>
    public DevnetSequence Next(ulong previousBatch, byte[] previousStateRoot, byte[] previousAccInputHash, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(TransactionSize);
        DevnetRules.RequireWord(previousStateRoot, nameof(previousStateRoot));
        DevnetRules.RequireWord(previousAccInputHash, nameof(previousAccInputHash));

        var batches = new DevnetBatch[count];
        var stateRoot = previousStateRoot;
        var accInputHash = previousAccInputHash;
        for (var i = 0; i < count; i++)
        {
            var transactions = new byte[TransactionSize];
            _random.NextBytes(transactions);
            if (_random.NextDouble() < NewGlobalExitRootProbability)
            {
                var globalExitRoot = new byte[32];
                _random.NextBytes(globalExitRoot);
                LastGlobalExitRoot = globalExitRoot;
            }

            LastTimestamp += TimestampStep;
            var batch = DevnetBatch.Create(previousBatch + 1 + (ulong)i, transactions, LastGlobalExitRoot,
                LastTimestamp, Coinbase, stateRoot, accInputHash);
            batches[i] = batch;
            stateRoot = batch.StateRoot;
            accInputHash = batch.AccInputHash;
        }

        return new DevnetSequence(ChainId, ForkId, Coinbase, batches);
    }
}
