namespace ZkPow.Aggregator.Generator;

public sealed partial class ProofGenerator
{
    /// <summary>The provers connected now, with their track record and the task each runs for us.</summary>
    public IReadOnlyList<ProverStatus> ConnectedProvers()
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var running = _running.Values.GroupBy(r => r.Session).ToDictionary(g => g.Key, g => g.OrderBy(r => r.Since).First());
            return [.. _workers.Keys.Where(s => !s.IsClosed).OrderBy(s => s.Name, StringComparer.Ordinal).Select(s =>
            {
                _health.TryGetValue(ProverHealth.KeyOf(s.Principal, s.Name), out var health);
                var job = running.TryGetValue(s, out var r) ? r : default;
                return new ProverStatus(s.Name, s.InstanceId, s.Peer, s.IsIdle, s.CurrentJobId, s.LastStatus?.Status.ToString(), s.Principal,
                    Quarantined: health?.QuarantinedUntil > now, JobsDone: health?.JobsDone ?? 0, JobsFailed: health?.JobsFailed ?? 0,
                    CurrentTask: job.Task?.ToString(), CurrentTaskSince: job.Task is null ? null : job.Since);
            })];
        }
    }
}
