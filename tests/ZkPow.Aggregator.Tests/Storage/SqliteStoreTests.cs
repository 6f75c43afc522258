using Microsoft.Data.Sqlite;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Tests.Storage;

/// <summary>The store's contract on SQLite, and what only the SQLite store does (WAL, group commit).</summary>
public sealed class SqliteStoreTests() : StoreTests(new SqliteTarget())
{
    private string Path => ((SqliteTarget)Target).Path;

    protected override async Task AssertDurableAsync(IAggregatorStore store)
    {
        Assert.Equal("FULL", ((SqliteStore)store).Synchronous);
        await using var raw = new SqliteConnection($"Data Source={Path}");
        raw.Open();
        using var mode = raw.CreateCommand();
        mode.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", (string)mode.ExecuteScalar()!);
    }

    [Fact]
    public async Task many_concurrent_writes_are_grouped_into_few_commits()
    {
        await using var opened = await Target.OpenAsync();
        var store = (SqliteStore)opened;
        var before = store.Commits;
        await Task.WhenAll(Enumerable.Range(0, 400).Select(i => store.AddSequenceAsync(StoreBuilder.Sequence((ulong)i * 2, 2), None)));
        Assert.Equal(800, (await store.LoadOpenTasksAsync(None)).Count);
        Assert.True(store.Commits - before < 400, $"{store.Commits - before} commits for 400 writes");
    }

    [Fact]
    public async Task a_failing_write_does_not_undo_the_writes_grouped_with_it()
    {
        await using var store = await Target.OpenAsync();
        var bad = new SequenceInput(5, 7, [StoreBuilder.Batch(6), StoreBuilder.Batch(7)]);
        var writes = Enumerable.Range(0, 50).Select(i => store.AddSequenceAsync(StoreBuilder.Sequence(1000 + (ulong)i, 1), None)).ToList();
        var ok = store.AddSequenceAsync(bad, None);
        // Batch 7 already belongs to the sequence (5,7]: a sequence (6,8] violates the batches primary key.
        var failing = store.AddSequenceAsync(StoreBuilder.Sequence(6, 2), None);
        await Task.WhenAll(writes);
        await ok;
        await Assert.ThrowsAnyAsync<Exception>(() => failing);
        Assert.Equal(52, (await store.LoadOpenTasksAsync(None)).Count);
    }
}
