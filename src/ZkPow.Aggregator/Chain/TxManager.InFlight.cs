namespace ZkPow.Aggregator.Chain;

public sealed partial class TxManager
{
    /// <summary>When the oldest transaction that is not final yet was created; null when none is in flight.</summary>
    public DateTimeOffset? OldestInFlightSince
    {
        get
        {
            DateTimeOffset? oldest = null;
            foreach (var tracked in _open.Values)
            {
                var created = tracked.Record.CreatedAt;
                if (oldest is null || created < oldest)
                {
                    oldest = created;
                }
            }

            return oldest;
        }
    }
}
