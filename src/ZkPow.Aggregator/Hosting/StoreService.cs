using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Hosting;

/// <summary>Opens the store (after the start-up checks, so a misconfigured node writes nothing): SQLite or PostgreSQL as
/// <see cref="StoreOptions.Provider"/> says (a PostgreSQL server that cannot be reached is waited for); runs its background
/// retention pass, and closes it last.</summary>
internal sealed class StoreService(IOptions<AggregatorOptions> options, TimeProvider time, AggregatorReadiness readiness, PartStopper stopper,
    StartupRetry retry, ILoggerFactory loggers) : IHostedService
{
    private IAggregatorStore? _store;
    private StoreRetention? _retention;

    public IAggregatorStore Store => _store ?? throw new InvalidOperationException("the store is not open");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        readiness.Starting("opening the store");
        var store = options.Value.Store;
        // A database server that is down or restarting is waited for like a node; a definite refusal (a wrong password,
        // a database that does not exist, a schema from a newer build) stops start-up.
        _store = store.IsPostgres
            ? await retry.RunAsync($"the PostgreSQL database {PostgresStore.Describe(store.ConnectionString!)}",
                ct => PostgresStore.OpenAsync(store, time, ct, options.Value.Replica.EffectiveId), cancellationToken, PostgresStore.IsTransient).ConfigureAwait(false)
            : await SqliteStore.OpenAsync(store, time, cancellationToken).ConfigureAwait(false);
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
