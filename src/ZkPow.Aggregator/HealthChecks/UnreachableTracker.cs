using Microsoft.Extensions.Diagnostics.HealthChecks;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.HealthChecks;

/// <summary>How long a dependency (the store, the base chain, the rollup node) has been unreachable: within
/// <see cref="HealthOptions.UnreachableGrace"/> a failure is <c>degraded</c>, past it <c>unhealthy</c>.</summary>
internal sealed class UnreachableTracker(HealthOptions options, TimeProvider time)
{
    private readonly Lock _gate = new();
    private DateTimeOffset? _since;

    /// <summary>Runs <paramref name="probe"/> within the check timeout and rates the outcome.</summary>
    public async Task<HealthCheckResult> ProbeAsync(string what, Func<CancellationToken, Task> probe, CancellationToken cancellationToken)
    {
        string? error;
        try
        {
            await probe(cancellationToken).WaitAsync(options.CheckTimeout, time, cancellationToken).ConfigureAwait(false);
            error = null;
        }
        catch (TimeoutException)
        {
            error = $"no answer within {Durations.Format(options.CheckTimeout)}";
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            error = e.Message;
        }

        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (error is null)
            {
                _since = null;
                return HealthCheckResult.Healthy();
            }

            _since ??= now;
            var down = now - _since.Value;
            var text = UrlRedaction.Redact($"{what} unreachable for {Durations.Format(down)}: {error}");
            return down >= options.UnreachableGrace
                ? HealthCheckResult.Unhealthy(text)
                : HealthCheckResult.Degraded($"{text} (not ready after {Durations.Format(options.UnreachableGrace)})");
        }
    }
}
