using Npgsql;

namespace ZkPow.Aggregator.Tests.Storage;

/// <summary>The throwaway PostgreSQL cluster the PostgreSQL store tests run on.</summary>
public sealed class PostgresClusterTests
{
    [Fact]
    public async Task each_test_database_is_fresh_and_separate_on_a_durable_cluster()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var first = await cluster.CreateDatabaseAsync();
        var second = await cluster.CreateDatabaseAsync();
        Assert.NotEqual(new NpgsqlConnectionStringBuilder(first).Database, new NpgsqlConnectionStringBuilder(second).Database);

        await using (var connection = new NpgsqlConnection(first))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE TABLE marker (id BIGINT); INSERT INTO marker VALUES (1);", connection);
            await create.ExecuteNonQueryAsync();
            await using var fsync = new NpgsqlCommand("SHOW fsync;", connection);
            Assert.Equal(cluster.Durable ? "on" : "off", (string)(await fsync.ExecuteScalarAsync())!);
        }

        await using (var connection = new NpgsqlConnection(second))
        {
            await connection.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM pg_tables WHERE tablename = 'marker';", connection);
            Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
        }
    }

    [Fact]
    public async Task a_cluster_runs_as_a_non_root_user_and_stopping_it_ends_the_server_and_removes_its_folder()
    {
        var cluster = await PostgresCluster.StartAsync(durable: false);
        try
        {
            var owner = File.ReadLines($"/proc/{cluster.ServerPid}/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            Assert.NotEqual("0", owner.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1]);
            var database = await cluster.CreateDatabaseAsync();
            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync();
            await using var select = new NpgsqlCommand("SELECT 1;", connection);
            Assert.Equal(1, (int)(await select.ExecuteScalarAsync())!);
        }
        finally
        {
            cluster.Stop();
        }

        Assert.False(Directory.Exists(cluster.Folder));
        Assert.False(IsRunning(cluster.ServerPid));
    }

    [Fact]
    public async Task a_cluster_whose_test_run_is_gone_is_stopped_and_removed_by_the_next_run()
    {
        var cluster = await PostgresCluster.StartAsync(durable: false);
        try
        {
            // Make the cluster look like one left behind by a run that was killed: its owner is a process that has exited.
            using (var gone = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true") { UseShellExecute = false })!)
            {
                await gone.WaitForExitAsync();
                await File.WriteAllTextAsync(Path.Combine(cluster.Folder, "owner"), $"{gone.Id} 12345");
            }

            PostgresCluster.CleanUpStale();
            Assert.False(Directory.Exists(cluster.Folder));
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (IsRunning(cluster.ServerPid) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.False(IsRunning(cluster.ServerPid), $"the server {cluster.ServerPid} still runs");
            var shared = await PostgresCluster.SharedAsync();
            Assert.True(Directory.Exists(shared.Folder), "the live run's cluster was removed too");
        }
        finally
        {
            cluster.Stop();
        }
    }

    private static bool IsRunning(int pid) =>
        File.Exists($"/proc/{pid}/status") && !File.ReadAllText($"/proc/{pid}/status").Contains("State:\tZ", StringComparison.Ordinal);
}
