using ProductCluster = ZkPow.Devnet.Storage.PostgresCluster;
using ProductClusterOptions = ZkPow.Devnet.Storage.PostgresClusterOptions;

namespace ZkPow.Tests;

/// <summary>
/// A throwaway PostgreSQL cluster for the test run, shared by every test of the process (<see cref="SharedAsync"/>): the
/// product's <see cref="ProductCluster"/> (binaries, the <c>postgres</c> user as root, durable settings, stop by PID,
/// watchdog) in a fresh folder <c>/tmp/zkpow-pg-&lt;test run PID&gt;-&lt;random&gt;</c> that is deleted when it stops.
/// Setting the environment variable <c>ZKPOW_TEST_PG_FSYNC=off</c> turns fsync, synchronous_commit and
/// full_page_writes off for speed. Each new run first stops and deletes the clusters of earlier runs whose process is
/// gone. Each test takes its own database (<see cref="CreateDatabaseAsync"/>), so tests run in parallel.
/// </summary>
internal sealed class PostgresCluster
{
    private const string FolderPrefix = "zkpow-pg-";
    private static readonly Lazy<Task<PostgresCluster>> s_shared = new(() => StartAsync(), LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly ProductCluster _cluster;

    private PostgresCluster(ProductCluster cluster)
    {
        _cluster = cluster;
    }

    /// <summary>The folder holding the data directory (<c>data</c>), the server log and the socket.</summary>
    public string Folder => _cluster.Folder;

    public int Port => _cluster.Port;

    /// <summary>The postmaster's PID.</summary>
    public int ServerPid => _cluster.ServerPid;

    /// <summary>Whether fsync, synchronous_commit and full_page_writes are on.</summary>
    public bool Durable => _cluster.Durable;

    /// <summary>The connection string of the maintenance database <c>postgres</c>.</summary>
    public string AdminConnectionString => _cluster.AdminConnectionString;

    /// <summary>The cluster shared by every test of this process, started on first use.</summary>
    public static Task<PostgresCluster> SharedAsync() => s_shared.Value;

    /// <summary>A connection string for <paramref name="database"/> on this cluster.</summary>
    public string ConnectionString(string database, int maxPoolSize = 20) => _cluster.ConnectionString(database, maxPoolSize);

    /// <summary>Creates a fresh, empty database <c>t_&lt;guid&gt;</c> and returns its connection string.</summary>
    public Task<string> CreateDatabaseAsync(int maxPoolSize = 20) =>
        _cluster.CreateDatabaseAsync("t_" + Guid.NewGuid().ToString("N"), maxPoolSize);

    /// <summary>A fresh database on the shared cluster.</summary>
    public static async Task<string> NewDatabaseAsync(int maxPoolSize = 20) =>
        await (await SharedAsync()).CreateDatabaseAsync(maxPoolSize);

    /// <summary>Starts a new cluster (the shared one is started by <see cref="SharedAsync"/>; stop others with <see cref="Stop"/>).</summary>
    public static async Task<PostgresCluster> StartAsync(bool? durable = null)
    {
        CleanUpStale();
        var durableSettings = durable ?? !string.Equals(Environment.GetEnvironmentVariable("ZKPOW_TEST_PG_FSYNC"), "off", StringComparison.OrdinalIgnoreCase);
        var folder = Path.Combine("/tmp", $"{FolderPrefix}{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        return new PostgresCluster(await ProductCluster.StartAsync(new ProductClusterOptions { Folder = folder, Durable = durableSettings, RemoveOnStop = true }));
    }

    /// <summary>Stops the server (fast shutdown, then a kill by PID) and deletes its folder. Idempotent.</summary>
    public void Stop() => _cluster.Stop();

    /// <summary>Stops and deletes the clusters of earlier test runs whose process is gone.</summary>
    internal static void CleanUpStale() => ProductCluster.CleanUpStale("/tmp", FolderPrefix);
}
