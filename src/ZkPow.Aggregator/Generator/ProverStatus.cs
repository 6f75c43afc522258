namespace ZkPow.Aggregator.Generator;

/// <summary>A connected prover as the status page shows it.</summary>
public sealed record ProverStatus(string Name, string InstanceId, string Peer, bool Idle, string? CurrentJobId, string? LastStatus);
