using Microsoft.Data.Sqlite;
using Npgsql;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Tests.Storage;

/// <summary>
/// Where a store test keeps its data: a SQLite file in a temp folder, or a fresh database on the throwaway PostgreSQL
/// cluster. <see cref="OpenAsync"/> opens (again) the same database; the raw reads and writes go around the store.
/// </summary>
public abstract class StoreTarget : IDisposable
{
    /// <summary>Opens a store on this target's database (the same one at every call).</summary>
    public abstract Task<IAggregatorStore> OpenAsync(TimeProvider? time = null);

    /// <summary>The store options naming this target's database.</summary>
    public abstract Task<StoreOptions> OptionsAsync();

    /// <summary>Runs <paramref name="sql"/> on the database directly and returns its rows.</summary>
    public abstract Task<IReadOnlyList<object?[]>> QueryAsync(string sql);

    /// <summary>An SQL literal of the blob with these hex digits.</summary>
    public abstract string BlobLiteral(string hex);

    /// <summary>The first column of the first row of <paramref name="sql"/>, as a long.</summary>
    public async Task<long> ScalarAsync(string sql) =>
        Convert.ToInt64((await QueryAsync(sql))[0][0], System.Globalization.CultureInfo.InvariantCulture);

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>A SQLite file in a temp folder.</summary>
public sealed class SqliteTarget : StoreTarget
{
    private readonly TempDir _dir = new();

    public string Path => _dir.File("store.db");

    public override Task<StoreOptions> OptionsAsync() => Task.FromResult(new StoreOptions { SqlitePath = Path });

    public override string BlobLiteral(string hex) => $"x'{hex}'";

    public override async Task<IAggregatorStore> OpenAsync(TimeProvider? time = null) =>
        await SqliteStore.OpenAsync(await OptionsAsync(), time ?? TimeProvider.System, CancellationToken.None);

    public override async Task<IReadOnlyList<object?[]>> QueryAsync(string sql)
    {
        await using var raw = new SqliteConnection($"Data Source={Path};Pooling=false");
        raw.Open();
        using var command = raw.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    public override void Dispose()
    {
        _dir.Dispose();
        base.Dispose();
    }
}

/// <summary>A fresh database on the test run's PostgreSQL cluster (<see cref="PostgresCluster"/>).</summary>
public sealed class PostgresTarget : StoreTarget
{
    private readonly Lazy<Task<string>> _database = new(() => PostgresCluster.NewDatabaseAsync());

    public Task<string> ConnectionStringAsync() => _database.Value;

    public override async Task<StoreOptions> OptionsAsync() =>
        new() { Provider = StoreOptions.PostgresProvider, ConnectionString = await ConnectionStringAsync() };

    public override string BlobLiteral(string hex) => $"'\\x{hex}'::bytea";

    public override async Task<IAggregatorStore> OpenAsync(TimeProvider? time = null) =>
        await PostgresStore.OpenAsync(await OptionsAsync(), time ?? TimeProvider.System, CancellationToken.None);

    public override async Task<IReadOnlyList<object?[]>> QueryAsync(string sql)
    {
        await using var raw = new NpgsqlConnection(await ConnectionStringAsync());
        await raw.OpenAsync();
        await using var command = new NpgsqlCommand(sql, raw);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }
}
