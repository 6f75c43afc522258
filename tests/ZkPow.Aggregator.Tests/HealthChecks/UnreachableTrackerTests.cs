using Microsoft.Extensions.Diagnostics.HealthChecks;
using ZkPow.Aggregator.HealthChecks;

namespace ZkPow.Aggregator.Tests.HealthChecks;

public sealed class UnreachableTrackerTests
{
    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task a_failure_is_degraded_within_the_grace_unhealthy_past_it_and_healthy_again_once_it_answers()
    {
        var time = new ManualTime();
        var tracker = new UnreachableTracker(new HealthOptions { UnreachableGrace = TimeSpan.FromSeconds(30) }, time);
        static Task Fail(CancellationToken _) => Task.FromException(new HttpRequestException("connection refused to https://node.example/v3/KEY"));

        Assert.Equal(HealthStatus.Healthy, (await tracker.ProbeAsync("the base chain", _ => Task.CompletedTask, CancellationToken.None)).Status);

        var first = await tracker.ProbeAsync("the base chain", Fail, CancellationToken.None);
        Assert.Equal(HealthStatus.Degraded, first.Status);
        Assert.DoesNotContain("KEY", first.Description, StringComparison.Ordinal);

        time.Now += TimeSpan.FromSeconds(29);
        Assert.Equal(HealthStatus.Degraded, (await tracker.ProbeAsync("the base chain", Fail, CancellationToken.None)).Status);

        time.Now += TimeSpan.FromSeconds(2);
        var past = await tracker.ProbeAsync("the base chain", Fail, CancellationToken.None);
        Assert.Equal(HealthStatus.Unhealthy, past.Status);
        Assert.Contains("the base chain unreachable for 31", past.Description, StringComparison.Ordinal);
        Assert.Contains("https://node.example/…", past.Description, StringComparison.Ordinal);

        Assert.Equal(HealthStatus.Healthy, (await tracker.ProbeAsync("the base chain", _ => Task.CompletedTask, CancellationToken.None)).Status);
        // A new failure starts a new grace.
        Assert.Equal(HealthStatus.Degraded, (await tracker.ProbeAsync("the base chain", Fail, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task a_probe_that_stalls_counts_as_unreachable_after_the_check_timeout()
    {
        var tracker = new UnreachableTracker(new HealthOptions { UnreachableGrace = TimeSpan.Zero, CheckTimeout = TimeSpan.FromMilliseconds(200) },
            TimeProvider.System);
        var result = await tracker.ProbeAsync("the rollup node", ct => Task.Delay(Timeout.Infinite, ct), CancellationToken.None);
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("no answer within", result.Description, StringComparison.Ordinal);
    }
}
