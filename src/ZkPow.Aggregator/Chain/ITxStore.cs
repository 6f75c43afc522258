namespace ZkPow.Aggregator.Chain;

/// <summary>
/// What the transaction manager needs from durable storage. Every method is one atomic database transaction, so the
/// signed raw transaction and its nonce are stored together, and a nonce is handed out at most once per sender even
/// with several processes sharing the store.
/// </summary>
public interface ITxStore
{
    /// <summary>Stores <paramref name="request"/> as Created unless its key exists; returns the stored transaction either way.</summary>
    Task<TxCreateResult> CreateTxAsync(TxRequest request, string sender, CancellationToken cancellationToken);

    Task<TxRecord?> GetTxAsync(string key, CancellationToken cancellationToken);

    Task<TxRecord?> GetTxAsync(long id, CancellationToken cancellationToken);

    /// <summary>The sender's transactions that are not final (Created, Signed, Sent, Mined), by nonce then id.</summary>
    Task<IReadOnlyList<TxRecord>> LoadOpenTxsAsync(string sender, CancellationToken cancellationToken);

    /// <summary>
    /// Raises the sender's next nonce to <paramref name="nodePendingNonce"/> if it is lower (the account was used
    /// elsewhere), creating the sender's row if needed; never lowers it. Returns the next nonce afterwards.
    /// </summary>
    Task<ulong> ReconcileNonceAsync(string sender, ulong nodePendingNonce, CancellationToken cancellationToken);

    /// <summary>
    /// In one transaction: takes the sender's next nonce, calls <paramref name="sign"/> with it, stores the signed
    /// transaction (Created → Signed, with its first version) and advances the nonce. Returns null, using no nonce,
    /// if the transaction is no longer Created or the sender was never reconciled.
    /// </summary>
    Task<TxRecord?> StoreSignedAsync(long txId, string sender, Func<ulong, SignedTx> sign, CancellationToken cancellationToken);

    /// <summary>Stores a new version (same nonce, higher fees) as the current one, only while the transaction is
    /// Signed or Sent. Returns the updated transaction, or null.</summary>
    Task<TxRecord?> StoreReplacementAsync(long txId, SignedTx replacement, CancellationToken cancellationToken);

    /// <summary>As <see cref="StoreReplacementAsync"/>, for a cancel: the new version is a 0-value transfer to
    /// <paramref name="to"/> (the sender itself), and the transaction becomes kind <see cref="TxRequest.CancelKind"/>
    /// with that payload, so that a later fee bump re-signs the cancel, never the original call.</summary>
    Task<TxRecord?> StoreCancelAsync(long txId, SignedTx cancel, string to, CancellationToken cancellationToken);

    /// <summary>Every hash the transaction was signed with (all versions), oldest first.</summary>
    Task<IReadOnlyList<string>> GetTxHashesAsync(long txId, CancellationToken cancellationToken);

    /// <summary>Applies <paramref name="change"/> if the transaction is in one of <paramref name="from"/>; returns it updated, or null.
    /// A <see cref="TxChange.TxHash"/> names the version a receipt shows mined: that version becomes the current one again
    /// (its kind, call, gas limit, raw transaction and fees), whatever replacement or cancel was signed after it.</summary>
    Task<TxRecord?> TransitionTxAsync(long txId, IReadOnlyCollection<TxState> from, TxChange change, CancellationToken cancellationToken);

    /// <summary>Throws <see cref="Storage.FencedException"/> unless this process may still send for the sender (with several
    /// replicas on one database: it holds the current leader lease); checked in the database right before every broadcast.
    /// One process alone: nothing to check.</summary>
    Task CheckFenceAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs the writes of a new transaction's way (stored as Created, signed with <paramref name="signed"/> and the
    /// sender's next nonce, marked Sent) once, in a database transaction that is rolled back: nothing stays, no nonce is
    /// used. For a warm-up; a store with nothing to warm up does nothing.</summary>
    Task WarmUpWritesAsync(string sender, SignedTx signed, CancellationToken cancellationToken) => Task.CompletedTask;
}
