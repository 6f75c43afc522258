using System.Diagnostics;

namespace ZkPow.Devnet.Network;

/// <summary>Listens to one <see cref="ActivitySource"/> and keeps the duration of every finished span by name.</summary>
internal sealed class SpanCollector : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<double>> _durations = new(StringComparer.Ordinal);

    public SpanCollector(string sourceName)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == sourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (_gate)
                {
                    if (!_durations.TryGetValue(activity.OperationName, out var list))
                    {
                        _durations[activity.OperationName] = list = [];
                    }

                    list.Add(activity.Duration.TotalMilliseconds);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>Count, p50, p99, max and the first (in the order they ended) of every span name seen so far.</summary>
    public IReadOnlyDictionary<string, DevnetSpanFigures> Summary()
    {
        lock (_gate)
        {
            return _durations.ToDictionary(d => d.Key, d =>
            {
                var sorted = d.Value.Order().ToArray();
                double At(double p) => Math.Round(sorted[Math.Min(sorted.Length - 1, Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1))], 3);
                return new DevnetSpanFigures(sorted.Length, At(0.5), At(0.99), Math.Round(sorted[^1], 3), Math.Round(d.Value[0], 3));
            }, StringComparer.Ordinal);
        }
    }

    public void Dispose() => _listener.Dispose();
}
