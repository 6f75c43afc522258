namespace ZkPow.Devnet.Network;

/// <summary>How long one kind of trace span took over a devnet run.</summary>
public sealed record DevnetSpanFigures(int Count, double P50Ms, double P99Ms, double MaxMs, double FirstMs);
