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
        Assert.False(File.Exists($"/proc/{cluster.ServerPid}/status") && !File.ReadAllText($"/proc/{cluster.ServerPid}/status").Contains("State:\tZ", StringComparison.Ordinal));
    }
}
