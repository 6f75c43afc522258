namespace ZkPow.Aggregator.Hosting;

/// <summary>Where a planned stop (<c>zkpow drain</c>) stands.</summary>
public enum DrainState
{
    /// <summary>No drain asked for: the aggregator commits as usual.</summary>
    None,

    /// <summary>No new hash is committed; open commitments are being revealed.</summary>
    Draining,

    /// <summary>Every commitment of ours is revealed and no tx of ours is in flight: the aggregator stops (exit code 0).</summary>
    Drained,
}
