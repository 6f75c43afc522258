namespace ZkPow.Aggregator.Storage;

/// <summary>A miner's <c>leader_leases</c> row as one acquire or renew left it.</summary>
/// <param name="Held">True if the statement gave (or renewed) the lease to the caller.</param>
/// <param name="Holder">The replica holding the lease now.</param>
/// <param name="Token">The fencing token of the current holder (incremented on every change of holder).</param>
/// <param name="ExpiresAt">The lease's end, in the database's clock.</param>
/// <param name="Forced">True if the statement took the lease from another holder before its expiry: the caller held the
/// miner's session lock, which that holder held when it last renewed, so that holder's session had ended.</param>
public sealed record LeaderLeaseRow(bool Held, string Holder, long Token, DateTimeOffset ExpiresAt, bool Forced = false);
