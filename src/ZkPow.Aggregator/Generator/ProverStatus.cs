namespace ZkPow.Aggregator.Generator;

/// <summary>A connected prover as the status page shows it; the principal is who connected it (<c>cert:…</c>,
/// <c>token:…</c> or <c>addr:…</c>). <paramref name="Quarantined"/>: it failed too many jobs in a row and gets no work
/// for now; <paramref name="JobsDone"/> and <paramref name="JobsFailed"/> count jobs of this prover (principal and name)
/// since the aggregator started; <paramref name="CurrentTask"/> is the task it runs for us, since
/// <paramref name="CurrentTaskSince"/>.</summary>
public sealed record ProverStatus(string Name, string InstanceId, string Peer, bool Idle, string? CurrentJobId, string? LastStatus,
    string Principal = "", bool Quarantined = false, int JobsDone = 0, int JobsFailed = 0, string? CurrentTask = null,
    DateTimeOffset? CurrentTaskSince = null);
