namespace ZkPow.Aggregator.Sync;

/// <summary>What the rollup sync keeps in durable storage.</summary>
public interface ISyncStore
{
    /// <summary>The last block processed, or null before the first range.</summary>
    Task<SyncCursor?> GetCursorAsync(CancellationToken cancellationToken);

    /// <summary>Blocks that something recorded was derived from, newest first (at most <paramref name="limit"/>).</summary>
    Task<IReadOnlyList<SyncCursor>> GetRecordedBlocksAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Writes the sequences, events and lost marks of a range and moves the cursor, atomically. Idempotent.</summary>
    Task ApplyRangeAsync(SyncRange range, CancellationToken cancellationToken);

    /// <summary>Deletes everything recorded above <paramref name="forkPoint"/> and moves the cursor there;
    /// returns the sequences that were deleted.</summary>
    Task<IReadOnlyList<SyncedSequence>> RollbackAsync(SyncCursor forkPoint, CancellationToken cancellationToken);

    /// <summary>Accounts that committed a proof hash for the sequence (lower-case).</summary>
    Task<IReadOnlyList<string>> GetCommittersAsync(ulong finalBatch, CancellationToken cancellationToken);

    Task<SyncedSequence?> GetSequenceAsync(ulong finalBatch, CancellationToken cancellationToken);

    /// <summary>Status of the synced sequences, newest first (at most <paramref name="limit"/>); <paramref name="ourAddress"/> flags our commits.</summary>
    Task<IReadOnlyList<SequenceSyncStatus>> ListSequenceStatusAsync(string ourAddress, int limit, CancellationToken cancellationToken);

    /// <summary>Sequences recorded from blocks above <paramref name="blockNumber"/>.</summary>
    Task<IReadOnlyList<SyncedSequence>> GetSequencesAfterAsync(ulong blockNumber, CancellationToken cancellationToken);
}
