using Npgsql;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Tests.Storage;

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
