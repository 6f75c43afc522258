using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Sync;

/// <summary>
/// What a sync step has read for its block range (from, to] with the hash of block <see cref="To"/>: the events, the
/// transactions' call data, the rollup node's batches and the contract's sequences at block <see cref="To"/>. A step
/// that fails half-way keeps it, so the next try of the same range reads only what is still missing; it is dropped
/// when the range is recorded, rolled back, or its last block changed.
/// </summary>
internal sealed class SyncStepMemo(ulong from, ulong to, string toHash)
{
    public ulong From { get; } = from;

    public ulong To { get; } = to;

    public string ToHash { get; } = toHash;

    public IReadOnlyList<RollupEvent>? Events { get; set; }

    /// <summary>Call data by transaction hash (immutable).</summary>
    public Dictionary<string, byte[]> TxInputs { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The rollup node's batches by number (only batches it knew).</summary>
    public Dictionary<ulong, RollupNodeBatch> NodeBatches { get; } = [];

    /// <summary><c>sequencedBatches(final)</c> read at block <see cref="To"/>.</summary>
    public Dictionary<ulong, SequencedBatch> Sequences { get; } = [];

    /// <summary>Reads served from here instead of the nodes (for logs and tests).</summary>
    public int Reused { get; set; }
}
