namespace ZkPow.Aggregator.Chain;

/// <summary><c>sequencedBatches(final)</c>: a sequence as the contract stores it. <see cref="RoundStart"/> is 0 while no
/// round is open; <see cref="ProofSubmitted"/> turns true when the first valid proof lands.</summary>
public sealed record SequencedBatch(
    ulong FinalNewBatch,
    byte[] AccInputHash,
    ulong SequencedTimestamp,
    ulong PreviousLastBatchSequenced,
    ulong RoundStart,
    bool ProofSubmitted)
{
    /// <summary>False when the contract knows no sequence ending at <see cref="FinalNewBatch"/>.</summary>
    public bool Exists => AccInputHash.AsSpan().ContainsAnyExcept((byte)0);
}
