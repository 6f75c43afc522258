using Microsoft.Data.Sqlite;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Tests.Storage;

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
