using Microsoft.Extensions.Logging;
using Npgsql;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Storage;
using ZkPow.Devnet.Storage;

namespace ZkPow.Devnet.Bench;

/// <summary>The stores a run uses: one SQLite file, or one <see cref="PostgresStore"/> per replica on one database (an
/// existing empty one, or a throwaway durable cluster's).</summary>
public sealed partial class GeneratorBenchmark
{
    /// <summary>Connections each replica's store may hold on the throwaway cluster: Npgsql's default, what a connection
    /// string without <c>Maximum Pool Size</c> gives an aggregator. Pools grow only as far as the concurrent store calls,
    /// which the provers bound, so the cluster's <c>max_connections</c> (300) is not reached.</summary>
    private const int ReplicaPoolSize = 100;

    /// <summary>Starts the throwaway durable cluster under <paramref name="folder"/> and creates the run's database.</summary>
    private async Task<(PostgresCluster Cluster, string ConnectionString)> StartClusterAsync(string folder, CancellationToken cancellationToken)
    {
        loggers.CreateLogger<GeneratorBenchmark>().LogInformation("Starting a throwaway durable PostgreSQL cluster in {Folder}", folder);
        var cluster = await PostgresCluster.StartAsync(new PostgresClusterOptions { Folder = folder, Durable = true, RemoveOnStop = true }, cancellationToken)
            .ConfigureAwait(false);
        try
        {
            return (cluster, await cluster.CreateDatabaseAsync("zkpow_bench", ReplicaPoolSize, cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            cluster.Stop();
            throw;
        }
    }

    /// <summary>One store per replica on <paramref name="connectionString"/> (own pool, owner <c>bench-replica-i</c>); refuses a
    /// database that already holds tasks or final proofs.</summary>
    private static async Task<List<PostgresStore>> OpenReplicaStoresAsync(string connectionString, int replicas, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var stores = new List<PostgresStore>(replicas);
        try
        {
            for (var i = 0; i < replicas; i++)
            {
                stores.Add(await PostgresStore.OpenAsync(new StoreOptions { Provider = StoreOptions.PostgresProvider, ConnectionString = connectionString },
                    time, cancellationToken, owner: $"bench-replica-{i}").ConfigureAwait(false));
            }

            var tasks = (await stores[0].CountTasksAsync(cancellationToken).ConfigureAwait(false)).Values.Sum();
            var finals = await stores[0].CountFinalProofsAsync(cancellationToken).ConfigureAwait(false);
            if (tasks > 0 || finals > 0)
            {
                throw new ArgumentException(
                    $"--store-connection: the database {PostgresStore.Describe(connectionString)} already holds {tasks} tasks and {finals} final proofs; " +
                    "the benchmark needs an empty database (create a fresh one, or leave --store-connection out to use a throwaway cluster)");
            }

            return stores;
        }
        catch
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>W on PostgreSQL: the same rows through as many stores as replicas, in a schema of its own in the run's
    /// database (created for the measurement and dropped after it), so that the run's tables stay empty.</summary>
    private async Task<double> MeasurePostgresStoreAsync(IReadOnlyList<SequenceInput> sequences, string connectionString, int replicas, int workers,
        string recursiveProof, CancellationToken cancellationToken)
    {
        var schema = $"zkpow_bench_limit_{Guid.NewGuid():N}";
        await ExecuteAsync(connectionString, $"CREATE SCHEMA {schema};", cancellationToken).ConfigureAwait(false);
        var stores = new List<IAggregatorStore>(replicas);
        try
        {
            var limit = new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = schema }.ConnectionString;
            for (var i = 0; i < replicas; i++)
            {
                stores.Add(await PostgresStore.OpenAsync(new StoreOptions { Provider = StoreOptions.PostgresProvider, ConnectionString = limit },
                    TimeProvider.System, cancellationToken, owner: $"limit-replica-{i}").ConfigureAwait(false));
            }

            return await MeasureStoreAsync(sequences, stores, workers, recursiveProof, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync().ConfigureAwait(false);
            }

            await ExecuteAsync(connectionString, $"DROP SCHEMA {schema} CASCADE;", CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql, CancellationToken cancellationToken)
    {
        // Pooling off: a connection kept in a pool of its own would outlive the run.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
