using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Tests.Storage;

/// <summary>The group-committing writer's lanes: writes queued ahead (a final proof's claim and job id), and bulk writes
/// (sequences synced at once) that later writes may pass.</summary>
public sealed class SqliteWriterTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task a_write_queued_ahead_joins_the_transaction_being_applied_instead_of_waiting_behind_the_queue()
    {
        using var dir = new TempDir();
        await using var writer = Open(dir, out var applied);
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        var blocker = writer.WriteAsync((c, t) => Insert(c, t, applied, 0, started, release), None);
        Assert.True(started.Wait(Bound), "the first write did not start");

        var queued = Enumerable.Range(1, 10).Select(i => writer.WriteAsync((c, t) => Insert(c, t, applied, i), None)).ToList();
        var ahead = writer.WriteAsync((c, t) => Insert(c, t, applied, 100), ahead: true, None);
        release.Set();

        await ahead.WaitAsync(Bound);
        await Task.WhenAll(queued).WaitAsync(Bound);
        await blocker.WaitAsync(Bound);
        Assert.Equal([0, 100, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], applied);
        // The blocked write and the one queued ahead commit together; the queue follows in one more transaction.
        Assert.Equal(2, writer.Commits);
        Assert.Equal(12, writer.Writes);
        Assert.Equal(12L, Count(dir));
    }

    [Fact]
    public async Task a_write_queued_ahead_cuts_a_group_short_and_the_rest_of_the_group_follows_in_order()
    {
        using var dir = new TempDir();
        await using var writer = Open(dir, out var applied);
        using var releaseFirst = new ManualResetEventSlim();
        using var firstStarted = new ManualResetEventSlim();
        using var releaseMiddle = new ManualResetEventSlim();
        using var middleStarted = new ManualResetEventSlim();
        var first = writer.WriteAsync((c, t) => Insert(c, t, applied, 0, firstStarted, releaseFirst), None);
        Assert.True(firstStarted.Wait(Bound), "the first write did not start");

        // Queued while the first write blocks the writer: one group, longer than what a write queued ahead waits for,
        // whose sixth write blocks in turn.
        var size = SqliteWriter.AheadWaitsFor + 10;
        var group = Enumerable.Range(1, size)
            .Select(i => i == 6
                ? writer.WriteAsync((c, t) => Insert(c, t, applied, i, middleStarted, releaseMiddle), None)
                : writer.WriteAsync((c, t) => Insert(c, t, applied, i), None))
            .ToList();
        releaseFirst.Set();
        Assert.True(middleStarted.Wait(Bound), "the group did not reach its sixth write");

        var ahead = writer.WriteAsync((c, t) => Insert(c, t, applied, 1000), ahead: true, None);
        releaseMiddle.Set();

        await ahead.WaitAsync(Bound);
        await Task.WhenAll(group.Append(first)).WaitAsync(Bound);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 1000, .. Enumerable.Range(7, size - 6)], applied);
        Assert.Equal(3, writer.Commits);
        Assert.Equal(size + 2, writer.Writes);
        Assert.Equal(size + 2L, Count(dir));
    }

    [Fact]
    public async Task a_write_queued_ahead_near_the_end_of_a_group_waits_for_the_group_and_commits_with_it()
    {
        using var dir = new TempDir();
        await using var writer = Open(dir, out var applied);
        using var releaseFirst = new ManualResetEventSlim();
        using var firstStarted = new ManualResetEventSlim();
        using var releaseMiddle = new ManualResetEventSlim();
        using var middleStarted = new ManualResetEventSlim();
        var first = writer.WriteAsync((c, t) => Insert(c, t, applied, 0, firstStarted, releaseFirst), None);
        Assert.True(firstStarted.Wait(Bound), "the first write did not start");

        var group = Enumerable.Range(1, 10)
            .Select(i => i == 6
                ? writer.WriteAsync((c, t) => Insert(c, t, applied, i, middleStarted, releaseMiddle), None)
                : writer.WriteAsync((c, t) => Insert(c, t, applied, i), None))
            .ToList();
        releaseFirst.Set();
        Assert.True(middleStarted.Wait(Bound), "the group did not reach its sixth write");

        var ahead = writer.WriteAsync((c, t) => Insert(c, t, applied, 1000), ahead: true, None);
        releaseMiddle.Set();

        await ahead.WaitAsync(Bound);
        await Task.WhenAll(group.Append(first)).WaitAsync(Bound);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1000], applied);
        Assert.Equal(2, writer.Commits);
    }

    [Fact]
    public async Task a_failing_write_queued_ahead_fails_alone()
    {
        using var dir = new TempDir();
        await using var writer = Open(dir, out var applied);
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        var blocker = writer.WriteAsync((c, t) => Insert(c, t, applied, 0, started, release), None);
        Assert.True(started.Wait(Bound), "the first write did not start");

        var queued = writer.WriteAsync((c, t) => Insert(c, t, applied, 1), None);
        // The same key as the blocked write: a constraint violation in the transaction both are applied in.
        var duplicate = writer.WriteAsync((c, t) => Insert(c, t, applied, 0), ahead: true, None);
        release.Set();

        await Assert.ThrowsAsync<SqliteException>(() => duplicate.WaitAsync(Bound));
        await blocker.WaitAsync(Bound);
        await queued.WaitAsync(Bound);
        Assert.Equal(2L, Count(dir));
    }

    [Fact]
    public async Task a_burst_of_slow_writes_commits_in_parts_in_order_and_the_first_are_durable_before_the_last_is_applied()
    {
        using var dir = new TempDir();
        await using var writer = Open(dir, out var applied, maxGroupTime: TimeSpan.FromMilliseconds(5));
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        var blocker = writer.WriteAsync((c, t) => Insert(c, t, applied, 0, started, release), None);
        Assert.True(started.Wait(Bound), "the first write did not start");

        // Queued while the writer is blocked: one batch of 20 writes of 2 ms or more each, 40 ms in all.
        Task<bool>? firstOfBurst = null;
        var firstDoneWhenLastApplied = false;
        var burst = new List<Task<bool>>();
        for (var i = 1; i <= 20; i++)
        {
            var id = i;
            burst.Add(writer.WriteAsync((c, t) =>
            {
                Thread.Sleep(2);
                if (id == 20)
                {
                    firstDoneWhenLastApplied = firstOfBurst!.IsCompleted;
                }

                return Insert(c, t, applied, id);
            }, None));
            firstOfBurst ??= burst[0];
        }

        release.Set();
        await Task.WhenAll(burst.Append(blocker)).WaitAsync(Bound);
        Assert.Equal(Enumerable.Range(0, 21), applied);
        Assert.Equal(21L, Count(dir));
        Assert.True(writer.Commits >= 3, $"{writer.Commits} commits for 40 ms of writes in groups of 5 ms");
        Assert.True(firstDoneWhenLastApplied, "the first write of the burst was not committed before the last was applied");
    }

    [Fact]
    public async Task writes_queued_behind_a_burst_of_bulk_writes_commit_before_the_rest_of_the_burst_each_kind_in_order()
    {
        using var dir = new TempDir();
        await using var writer = Open(dir, out var applied, maxGroupTime: TimeSpan.FromMilliseconds(5));
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        var blocker = writer.WriteAsync((c, t) => Insert(c, t, applied, 0, started, release), None);
        Assert.True(started.Wait(Bound), "the first write did not start");

        // A burst of ten bulk writes (sequences synced at once), the third of which waits for the test and then takes
        // longer than a group may: its group commits right after it.
        using var thirdStarted = new ManualResetEventSlim();
        using var releaseThird = new ManualResetEventSlim();
        var burst = Enumerable.Range(1, 10).Select(i => writer.WriteBulkAsync((c, t) =>
        {
            if (i == 3)
            {
                Insert(c, t, applied, i, thirdStarted, releaseThird);
                Thread.Sleep(10);
                return true;
            }

            return Insert(c, t, applied, i);
        }, None)).ToList();
        release.Set();
        Assert.True(thirdStarted.Wait(Bound), "the burst did not reach its third write");

        // Queued while the burst is applied: a job's claim, job id and proof.
        var hot = Enumerable.Range(101, 3).Select(i => writer.WriteAsync((c, t) => Insert(c, t, applied, i), None)).ToList();
        releaseThird.Set();

        await Task.WhenAll(burst.Concat(hot).Append(blocker)).WaitAsync(Bound);
        Assert.Equal([0, 1, 2, 3, 101, 102, 103, 4, 5, 6, 7, 8, 9, 10], applied);
        Assert.Equal(14L, Count(dir));
    }

    [Fact]
    public async Task without_a_time_cut_a_bulk_write_keeps_its_place_in_the_queue()
    {
        using var dir = new TempDir();
        await using var writer = Open(dir, out var applied);
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        var blocker = writer.WriteAsync((c, t) => Insert(c, t, applied, 0, started, release), None);
        Assert.True(started.Wait(Bound), "the first write did not start");

        var writes = new List<Task<bool>>
        {
            writer.WriteAsync((c, t) => Insert(c, t, applied, 1), None),
            writer.WriteBulkAsync((c, t) => Insert(c, t, applied, 2), None),
            writer.WriteAsync((c, t) => Insert(c, t, applied, 3), None),
        };
        release.Set();

        await Task.WhenAll(writes.Append(blocker)).WaitAsync(Bound);
        Assert.Equal([0, 1, 2, 3], applied);
        Assert.Equal(2, writer.Commits);
    }

    /// <summary>A writer on a fresh file; groups are cut by time only if <paramref name="maxGroupTime"/> says so (the
    /// other tests count commits, which a slow machine must not change).</summary>
    private static SqliteWriter Open(TempDir dir, out ConcurrentQueue<int> applied, TimeSpan? maxGroupTime = null)
    {
        applied = new ConcurrentQueue<int>();
        var connection = new SqliteConnection($"Data Source={dir.File("writer.db")}");
        connection.Open();
        using var create = connection.CreateCommand();
        create.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (id INTEGER PRIMARY KEY);";
        create.ExecuteNonQuery();
        return new SqliteWriter(connection, 512, maxGroupTime ?? TimeSpan.FromHours(1));
    }

    private static bool Insert(SqliteConnection connection, SqliteTransaction transaction, ConcurrentQueue<int> applied, int id,
        ManualResetEventSlim? started = null, ManualResetEventSlim? release = null)
    {
        started?.Set();
        if (release is not null && !release.Wait(Bound))
        {
            throw new TimeoutException("the test did not release the write");
        }

        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO t (id) VALUES ($id);";
        command.Parameters.AddWithValue("$id", id);
        command.ExecuteNonQuery();
        applied.Enqueue(id);
        return true;
    }

    private static long Count(TempDir dir)
    {
        using var connection = new SqliteConnection($"Data Source={dir.File("writer.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM t;";
        return (long)command.ExecuteScalar()!;
    }
}
