namespace ZkPow.Aggregator.Leadership;

/// <summary>
/// The leader lease of replicas sharing one PostgreSQL database (section <c>Leader</c>): the leader renews its lease
/// every <see cref="RenewInterval"/> for <see cref="LeaseTime"/>; a standby takes over at most about
/// <see cref="LeaseTime"/> + <see cref="RenewInterval"/> after the leader's last renewal. Unused on SQLite (one process).
/// </summary>
public sealed class LeaderOptions
{
    /// <summary>How often the leader renews its lease and a standby tries to take it (duration, e.g. <c>2s</c>).</summary>
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a renewal holds the lease, in the database's clock (duration, e.g. <c>6s</c>); the leader steps
    /// down by its own clock as soon as this much time has passed since it sent its last successful renewal.</summary>
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(6);

    public void Validate()
    {
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
