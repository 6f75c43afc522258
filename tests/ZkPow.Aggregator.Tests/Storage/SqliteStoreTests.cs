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
    public async Task the_id_of_a_parent_announced_before_its_group_failed_to_commit_is_never_given_to_another_task()
    {
        await using var opened = await Target.OpenAsync();
        var store = (SqliteStore)opened;
        var tasks = await store.AddSequenceAsync(StoreBuilder.Sequence(0, 2), None);
        var p = StoreBuilder.Prover();
        var now = DateTimeOffset.UtcNow;
        foreach (var t in tasks)
        {
            Assert.True(await store.TryClaimAsync(t.Id, p, now, now.AddMinutes(1), None));
        }

        Assert.True((await store.CompleteAsync(tasks[0].Id, p, "proof-1", AggregationTree.ParentOf(0, 2, 0, 1), None)).Accepted);

        // The completion that creates the parent, and a write that makes the group's COMMIT fail (a deferred foreign key
        // violation), applied in one group: the writer is held until both are queued.
        using var release = new ManualResetEventSlim();
        using var holding = new ManualResetEventSlim();
        var held = store.WriteAsync((_, _) =>
        {
            holding.Set();
            return release.Wait(TimeSpan.FromSeconds(60));
        });
        Assert.True(holding.Wait(TimeSpan.FromSeconds(60)));
        ProofTask? announced = null;
        var completing = store.CompleteAsync(tasks[1].Id, p, "proof-2", AggregationTree.ParentOf(0, 2, 1, 2), r => announced = r.Unlocked, None);
        var breaking = store.WriteAsync(SqliteFaults.FailTheCommit);
        release.Set();
        Assert.True(await held);
        await Assert.ThrowsAnyAsync<Exception>(() => completing);
        await Assert.ThrowsAnyAsync<Exception>(() => breaking);

        // The parent was announced while the group was applied, and is not in the store: its input is still assigned.
        Assert.NotNull(announced);
        Assert.Null(await store.GetProofAsync(tasks[1].Id, None));
        Assert.DoesNotContain(await store.LoadOpenTasksAsync(None), t => t.Id == announced.Id);

        // Done again, the completion creates the parent under a new id; a claim of the announced one claims nothing.
        var again = await store.CompleteAsync(tasks[1].Id, p, "proof-2", AggregationTree.ParentOf(0, 2, 1, 2), None);
        var parent = Assert.IsType<ProofTask>(again.Unlocked);
        Assert.True(parent.Id > announced.Id, $"parent {parent.Id}, announced {announced.Id}");
        Assert.False(await store.TryClaimAsync(announced.Id, p, now, now.AddMinutes(1), None));
        Assert.True(await store.TryClaimAsync(parent.Id, p, now, now.AddMinutes(1), None));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task the_writer_goes_on_after_a_transaction_rolled_back_under_it(bool grouped)
    {
        await using var opened = await Target.OpenAsync();
        var store = (SqliteStore)opened;
        using var release = new ManualResetEventSlim();
        using var holding = new ManualResetEventSlim();
        if (grouped)
        {
            // The writer is held so that the next writes are applied in one group (each in its own savepoint).
            _ = store.WriteAsync((_, _) =>
            {
                holding.Set();
                return release.Wait(TimeSpan.FromSeconds(60));
            });
            Assert.True(holding.Wait(TimeSpan.FromSeconds(60)));
        }

        // SQLite rolls a transaction back by itself on some errors (a full disk, an I/O error); a ROLLBACK does the same.
        var before = grouped ? store.AddSequenceAsync(StoreBuilder.Sequence(0, 1), None) : null;
        var broken = store.WriteAsync((connection, transaction) =>
        {
            SqliteStore.Execute(connection, transaction, "ROLLBACK;");
            return 0;
        });
        var after = store.AddSequenceAsync(StoreBuilder.Sequence(1, 2), None);
        release.Set();

        await Assert.ThrowsAnyAsync<Exception>(() => broken).WaitAsync(TimeSpan.FromSeconds(60));
        if (before is not null)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => before).WaitAsync(TimeSpan.FromSeconds(60)); // rolled back with it
        }

        Assert.Equal(2, (await after.WaitAsync(TimeSpan.FromSeconds(60))).Count);
        Assert.Equal(3, (await store.AddSequenceAsync(StoreBuilder.Sequence(3, 3), None).WaitAsync(TimeSpan.FromSeconds(60))).Count);
        Assert.Equal(5, (await store.LoadOpenTasksAsync(None)).Count);
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
