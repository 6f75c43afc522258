using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Hosting;

/// <summary>Opens the store (after the start-up checks, so a misconfigured node writes nothing), runs its background
/// retention pass, and closes it last.</summary>
internal sealed class StoreService(IOptions<AggregatorOptions> options, TimeProvider time, AggregatorReadiness readiness, PartStopper stopper,
    ILoggerFactory loggers) : IHostedService
{
    private SqliteStore? _store;
    private StoreRetention? _retention;

    public SqliteStore Store => _store ?? throw new InvalidOperationException("the store is not open");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        readiness.Starting("opening the store");
        _store = await SqliteStore.OpenAsync(options.Value.Store, time, cancellationToken).ConfigureAwait(false);
        _retention = new StoreRetention(_store, options.Value.Store, time, loggers.CreateLogger<StoreRetention>());
        _retention.Start();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var retention = Interlocked.Exchange(ref _retention, null);
        if (retention is not null)
        {
            await stopper.StopAsync("the store's retention pass", retention.DisposeAsync).ConfigureAwait(false);
        }

        var store = Interlocked.Exchange(ref _store, null);
        if (store is not null)
        {
            await stopper.StopAsync("the store", store.DisposeAsync).ConfigureAwait(false);
        }
    }
}
