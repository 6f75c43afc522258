namespace ZkPow.Aggregator.Hosting;

/// <summary>How an aggregator's host runs in its process.</summary>
public sealed class AggregatorHostSettings
{
    /// <summary>The host stops itself on SIGINT / SIGTERM (<c>zkpow run</c>); off when several aggregators share a process
    /// (the devnet) or a test drives it.</summary>
    public bool ConsoleLifetime { get; init; }

    /// <summary>How long the ordered stop may take (<c>HostOptions.ShutdownTimeout</c>); parts still stopping then are
    /// cut.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
