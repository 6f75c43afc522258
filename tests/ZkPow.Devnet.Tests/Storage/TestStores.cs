using Microsoft.Data.Sqlite;
using Npgsql;
using ZkPow.Aggregator.Storage;
using ZkPow.Tests;

namespace ZkPow.Devnet.Tests.Storage;

/// <summary>Store options and stores for a <see cref="StoreKind"/>: a SQLite file at the path given, or a fresh database
/// (one per call) on the shared <see cref="PostgresCluster"/>.</summary>
internal static class TestStores
{
    /// <summary>Options naming a new store: the SQLite file <paramref name="sqlitePath"/>, or a new PostgreSQL database.</summary>
    public static async Task<StoreOptions> NewOptionsAsync(StoreKind kind, string sqlitePath) => kind switch
    {
        StoreKind.Sqlite => new StoreOptions { SqlitePath = sqlitePath },
        StoreKind.Postgres => new StoreOptions { Provider = StoreOptions.PostgresProvider, ConnectionString = await PostgresCluster.NewDatabaseAsync() },
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Opens (again) the store that <paramref name="options"/> name.</summary>
    public static async Task<IAggregatorStore> OpenAsync(StoreOptions options, TimeProvider? time = null) => options.IsPostgres
        ? await PostgresStore.OpenAsync(options, time ?? TimeProvider.System, CancellationToken.None)
        : await SqliteStore.OpenAsync(options, time ?? TimeProvider.System, CancellationToken.None);

    /// <summary>Runs <paramref name="sql"/> on the database directly (around the store); returns the rows it changed.</summary>
    public static async Task<int> ExecuteAsync(StoreOptions options, string sql)
    {
        if (options.IsPostgres)
        {
            await using var connection = new NpgsqlConnection(options.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            return await command.ExecuteNonQueryAsync();
        }

        await using var sqlite = new SqliteConnection($"Data Source={options.SqlitePath};Pooling=False");
        sqlite.Open();
        using var sqliteCommand = sqlite.CreateCommand();
        sqliteCommand.CommandText = sql;
        return sqliteCommand.ExecuteNonQuery();
    }
}
