namespace ZkPow.Aggregator.Storage;

/// <summary>One replica of a miner's aggregator, as its last heartbeat recorded it (<c>replicas</c> table).</summary>
/// <param name="Id">The replica id (<c>Replica:Id</c>, by default host name, process id and a random suffix).</param>
/// <param name="Role"><c>leader</c> or <c>standby</c>, as the replica last reported.</param>
/// <param name="Leader">True if this replica holds the unexpired lease in the database now.</param>
/// <param name="Token">The fencing token the replica led with, if it led.</param>
/// <param name="StartedAt">When the replica started.</param>
/// <param name="LastSeen">Its last heartbeat, in the database's clock.</param>
/// <param name="SecondsSinceSeen">Seconds from the last heartbeat to the database's clock now.</param>
public sealed record ReplicaRecord(string Id, string Role, bool Leader, long? Token, DateTimeOffset StartedAt, DateTimeOffset LastSeen, double SecondsSinceSeen)
{
    /// <summary>The names of the provers connected to the replica at its last heartbeat.</summary>
    public IReadOnlyList<string> Provers { get; init; } = [];
}
