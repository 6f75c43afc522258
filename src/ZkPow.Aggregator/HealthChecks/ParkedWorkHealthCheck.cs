using System.Data.Common;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Aggregator.HealthChecks;

/// <summary><c>parked</c>: work left for an operator (parked tasks, sequences the sender parked) makes the aggregator <c>degraded</c>, not unready:
/// everything else goes on.</summary>
internal sealed class ParkedWorkHealthCheck(StoreService store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        int parked, sequences;
        try
        {
            var counts = await store.Store.CountTasksAsync(cancellationToken).ConfigureAwait(false);
            parked = counts.Where(c => c.Key.State == TaskState.Parked).Sum(c => c.Value);
            sequences = (await store.Store.ListSenderParkedAsync(cancellationToken).ConfigureAwait(false)).Count;
        }
        catch (DbException e)
        {
            // The store does not answer (a database outage): the store check reports it; this one cannot tell.
            return HealthCheckResult.Degraded($"parked work cannot be counted: {e.Message}");
        }

        return parked == 0 && sequences == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Degraded(
                $"{parked} parked tasks, {sequences} parked sequences ('zkpow tasks list --parked' shows them, 'zkpow tasks requeue' gives them back)");
    }
}
