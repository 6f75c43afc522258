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

    /// <summary>The first column of the first row of <paramref name="sql"/>, as text (null for SQL NULL).</summary>
    public async Task<string?> ScalarTextAsync(string sql) => (await QueryAsync(sql))[0][0] as string;

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
