using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// Gauges of work waiting on someone (meter <c>ZkPow.Aggregator.Backlog</c>): tasks parked for an operator (counted in
/// the store every <see cref="RefreshInterval"/>), transactions in flight and the age of the oldest (read at each
/// scrape). The alert rules in deploy/prometheus/alerts.yml watch them.
/// </summary>
public sealed partial class BacklogMetrics : IAsyncDisposable
{
    public const string MeterName = "ZkPow.Aggregator.Backlog";
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(10);

    private readonly Meter _meter;
    private readonly IAggregatorStore _store;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private long _parked = -1;

    public BacklogMetrics(IAggregatorStore store, Func<TxManager?> transactions, ILogger<BacklogMetrics> logger, TimeProvider time)
    {
        _store = store;
        _logger = logger;
        _time = time;
        _meter = new Meter(MeterName);
        _meter.CreateObservableGauge("parked_tasks", ParkedTasks, description: "Proof tasks parked for an operator (zkpow tasks list --parked)");
        _meter.CreateObservableGauge("txs_in_flight", () => transactions()?.InFlight ?? 0, description: "Transactions sent and not final yet");
        _meter.CreateObservableGauge("oldest_tx_age_seconds", () => transactions()?.OldestInFlightSince is { } since ? (time.GetUtcNow() - since).TotalSeconds : 0,
            "s", "Age of the oldest transaction not final yet (0 when none)");
        _loop = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _meter.Dispose();
        _stopping.Dispose();
    }

    private IEnumerable<Measurement<long>> ParkedTasks() => Interlocked.Read(ref _parked) is var parked and >= 0 ? [new Measurement<long>(parked)] : [];

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var counts = await _store.CountTasksAsync(cancellationToken).ConfigureAwait(false);
                Interlocked.Exchange(ref _parked, counts.Where(c => c.Key.State == TaskState.Parked).Sum(c => c.Value));
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or ObjectDisposedException)
            {
                LogCountFailed(ex.Message);
            }

            await Task.Delay(RefreshInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Counting parked tasks failed: {Error}")]
    private partial void LogCountFailed(string error);
}
