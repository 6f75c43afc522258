namespace ZkPow.Aggregator.Leadership;

/// <summary>
/// The leader lease of replicas sharing one PostgreSQL database (section <c>Leader</c>): the leader renews its lease
/// every <see cref="RenewInterval"/> for <see cref="LeaseTime"/>; a standby takes over at most about
/// <see cref="LeaseTime"/> + <see cref="RenewInterval"/> after the leader's last renewal, and within about
/// <see cref="SessionPollInterval"/> of the end of the leader's database session when <see cref="SessionLock"/> is on.
/// Unused on SQLite (one process).
/// </summary>
public sealed class LeaderOptions
{
    /// <summary>How often the leader renews its lease and a standby tries to take it (duration, e.g. <c>2s</c>).</summary>
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a renewal holds the lease, in the database's clock (duration, e.g. <c>6s</c>); the leader steps
    /// down by its own clock as soon as this much time has passed since it sent its last successful renewal.</summary>
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>True (default): the leader holds the miner's session lock (a PostgreSQL advisory lock on a connection of
    /// its own) for its whole term, and a standby that gets that lock takes the lease at once, before its expiry: the
    /// leader's session has ended (its process died). Turn off when the connection passes a pooler in transaction mode
    /// (PgBouncer <c>pool_mode=transaction</c>), where session locks do not follow the client's session.</summary>
    public bool SessionLock { get; set; } = true;

    /// <summary>How often a standby tries to get the session lock (duration, e.g. <c>200ms</c>; one cheap statement on
    /// its own connection); at most <see cref="RenewInterval"/> apart in any case.</summary>
    public TimeSpan SessionPollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    public void Validate()
    {
        if (SessionPollInterval < TimeSpan.FromMilliseconds(20) || SessionPollInterval > TimeSpan.FromMinutes(1))
        {
            throw new OptionsException("Leader:SessionPollInterval", "must be between 20ms and 1m");
        }

        if (RenewInterval < TimeSpan.FromMilliseconds(50) || RenewInterval > TimeSpan.FromMinutes(5))
        {
            throw new OptionsException("Leader:RenewInterval", "must be between 50ms and 5m");
        }

        if (LeaseTime < TimeSpan.FromMilliseconds(200) || LeaseTime > TimeSpan.FromMinutes(30))
        {
            throw new OptionsException("Leader:LeaseTime", "must be between 200ms and 30m");
        }

        if (RenewInterval >= LeaseTime / 2)
        {
            throw new OptionsException("Leader:RenewInterval", $"must be less than half of Leader:LeaseTime ({LeaseTime.TotalMilliseconds:0} ms), so that a renewal can fail once without losing the lease");
        }
    }
}
