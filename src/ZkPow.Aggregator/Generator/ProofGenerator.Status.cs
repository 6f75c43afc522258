namespace ZkPow.Aggregator.Generator;

public sealed partial class ProofGenerator
{
    /// <summary>The provers connected now.</summary>
    public IReadOnlyList<ProverStatus> ConnectedProvers()
    {
        lock (_gate)
        {
            return [.. _workers.Keys.Where(s => !s.IsClosed).OrderBy(s => s.Name, StringComparer.Ordinal)
                .Select(s => new ProverStatus(s.Name, s.InstanceId, s.Peer, s.IsIdle, s.CurrentJobId, s.LastStatus?.Status.ToString(), s.Principal))];
        }
    }

    /// <summary>Null while the runtime lease sweeper is healthy, else its last error text (the health check
    /// <c>leaseSweeper</c> reads it). No sweeper reports errors yet: always null.</summary>
    public string? LeaseSweepError => null;
}
