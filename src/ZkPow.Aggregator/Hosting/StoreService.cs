using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Hosting;

/// <summary>Opens the store (after the start-up checks, so a misconfigured node writes nothing) and closes it last.</summary>
internal sealed class StoreService(IOptions<AggregatorOptions> options, TimeProvider time, AggregatorReadiness readiness, PartStopper stopper)
    : IHostedService
{
    private SqliteStore? _store;

    public SqliteStore Store => _store ?? throw new InvalidOperationException("the store is not open");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        readiness.Starting("opening the store");
        _store = await SqliteStore.OpenAsync(options.Value.Store, time, cancellationToken).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var store = Interlocked.Exchange(ref _store, null);
        if (store is not null)
        {
            await stopper.StopAsync("the store", store.DisposeAsync).ConfigureAwait(false);
        }
    }
}
