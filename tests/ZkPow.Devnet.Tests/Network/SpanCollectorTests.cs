using System.Diagnostics;
using ZkPow.Devnet.Network;

namespace ZkPow.Devnet.Tests.Network;

public sealed class SpanCollectorTests
{
    [Fact]
    public void the_summary_gives_count_p50_p99_max_and_the_first_span_to_end_of_each_name()
    {
        using var source = new ActivitySource($"zkpow.test.{Guid.NewGuid():N}");
        using var collector = new SpanCollector(source.Name);
        var start = DateTime.UtcNow;
        foreach (var ms in new[] { 25.0, 10.0, 30.0, 20.0 })
        {
            using var span = source.StartActivity("step", ActivityKind.Internal, default(ActivityContext), startTime: start)!;
            span.SetEndTime(start.AddMilliseconds(ms));
        }

        using (var other = source.StartActivity("other", ActivityKind.Internal, default(ActivityContext), startTime: start)!)
        {
            other.SetEndTime(start.AddMilliseconds(4));
        }

        var summary = collector.Summary();
        Assert.Equal(new DevnetSpanFigures(4, 20, 30, 30, 25), summary["step"]);
        Assert.Equal(new DevnetSpanFigures(1, 4, 4, 4, 4), summary["other"]);
        Assert.Equal(2, summary.Count);
    }
}
