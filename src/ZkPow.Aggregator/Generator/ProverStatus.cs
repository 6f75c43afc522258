namespace ZkPow.Aggregator.Generator;

/// <summary>A connected prover as the status page shows it; the principal is who connected it (<c>cert:…</c>,
/// <c>token:…</c> or <c>addr:…</c>).</summary>
public sealed record ProverStatus(string Name, string InstanceId, string Peer, bool Idle, string? CurrentJobId, string? LastStatus,
    string Principal = "");
