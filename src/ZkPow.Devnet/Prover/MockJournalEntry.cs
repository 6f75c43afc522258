namespace ZkPow.Devnet.Prover;

/// <summary>
/// One journal line: a Gen*Request the prover received. <see cref="Kind"/> is "batch", "aggregated" or "final";
/// the batch range is null when the request could not be read.
/// </summary>
public sealed record MockJournalEntry(
    string Kind,
    ulong? OldBatch,
    ulong? NewBatch,
    string JobId,
    string InstanceId,
    string Prover,
    DateTimeOffset Utc);
