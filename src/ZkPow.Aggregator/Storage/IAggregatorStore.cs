using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Dashboard;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Storage;

/// <summary>
/// Everything the aggregator keeps: what the generator, the rollup sync, the sender and the transaction manager need,
/// plus the counters, dashboard reads and retention that hosting uses. Implemented by <see cref="SqliteStore"/> (the
/// embedded default) and <see cref="PostgresStore"/>; <see cref="StoreOptions.Provider"/> chooses.
/// </summary>
public interface IAggregatorStore : IGeneratorStore, ISyncStore, ISubmissionStore, ITxStore, IAsyncDisposable
{
    /// <summary>The stored final proof of <paramref name="finalBatch"/>, or null.</summary>
    new Task<FinalProofRecord?> GetFinalProofAsync(ulong finalBatch, CancellationToken cancellationToken);

    /// <summary>The schema version of the database (the highest applied migration).</summary>
    Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken);

    /// <summary>Counts per task state and kind, for status pages and tests.</summary>
    Task<IReadOnlyDictionary<(TaskKind Kind, TaskState State), int>> CountTasksAsync(CancellationToken cancellationToken);

    /// <summary>Number of stored final proofs.</summary>
    Task<int> CountFinalProofsAsync(CancellationToken cancellationToken);

    /// <summary>Stored final proofs of sequences the sender has not parked.</summary>
    Task<int> CountUnparkedFinalProofsAsync(CancellationToken cancellationToken);

    /// <summary>Counts per transaction state, for status pages and tests.</summary>
    Task<IReadOnlyDictionary<TxState, int>> CountTxsAsync(CancellationToken cancellationToken);

    /// <summary>One bounded retention step, in one transaction (see <see cref="SqliteStore.PruneAsync"/>).</summary>
    Task<RetentionResult> PruneAsync(int retainVerified, TimeSpan retainFinalProofs, int maxItems, CancellationToken cancellationToken);

    /// <summary>The last <paramref name="limit"/> synced sequences, newest first.</summary>
    Task<IReadOnlyList<DashboardSequenceRow>> ListDashboardSequencesAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Our transactions that are not final yet, and the <paramref name="recent"/> last final ones.</summary>
    Task<IReadOnlyList<DashboardTx>> ListDashboardTxsAsync(int recent, CancellationToken cancellationToken);

    /// <summary>Rewards paid to <paramref name="account"/> and its slashes, oldest first (the last <paramref name="limit"/>).</summary>
    Task<IReadOnlyList<DashboardEarning>> ListEarningsAsync(string account, int limit, CancellationToken cancellationToken);

    /// <summary>Sequences whose first recorded verification is by <paramref name="account"/>.</summary>
    Task<int> CountVerifiedByAsync(string account, CancellationToken cancellationToken);
}
