namespace ZkPow.Devnet.Rollup;

/// <summary>Where the devnet rollup node listens.</summary>
public sealed class DevnetRollupNodeOptions
{
    /// <summary>TCP port on 127.0.0.1; 0 = a free port. Example: <c>8123</c>.</summary>
    public int Port { get; init; }
}
