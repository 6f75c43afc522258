namespace ZkPow.Aggregator.Storage;

/// <summary>
/// The leader lease this process holds, as the store checks it: every write that allocates a nonce, replaces or cancels
/// a transaction, or precedes a broadcast runs only while the <c>leader_leases</c> row of <see cref="Miner"/> still
/// names <see cref="Holder"/> with <see cref="Token"/> and has not expired in the database's clock. Set by the lease
/// service; the SQLite store (one process) ignores it.
/// </summary>
public interface IFence
{
    /// <summary>The miner's address (lower case): the key of the lease row.</summary>
    string Miner { get; }

    /// <summary>This replica's id.</summary>
    string Holder { get; }

    /// <summary>The fencing token of the lease held now, or null while this replica does not lead.</summary>
    long? Token { get; }
}
