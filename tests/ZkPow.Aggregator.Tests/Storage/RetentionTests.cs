using Microsoft.Data.Sqlite;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Storage;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Tests.Storage;

public sealed class RetentionTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Month = TimeSpan.FromDays(30);

    // Seven sequences of two batches: A (0,2] … G (12,14]. Every one is proved to its final proof except C, still being
    // proved; B's submission is open (committed); A's was revealed. verifyBatches covers up to 12 (F); G is not verified.
    private static async Task<(SqliteStore Store, ManualClock Clock)> SetUpAsync(TempDir dir)
    {
        var clock = new ManualClock(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var store = await StoreBuilder.OpenAsync(dir, time: clock);
        foreach (var init in new ulong[] { 0, 2, 4, 6, 8, 10, 12 })
        {
            if (init == 4)
            {
                await store.AddSequenceAsync(StoreBuilder.Sequence(init, 2), None);
                continue;
            }

            await ProveAsync(store, StoreBuilder.Sequence(init, 2), clock.GetUtcNow());
        }

        await store.SaveSubmissionAsync(Submission(2, SubmissionState.Revealed), None);
        await store.SaveSubmissionAsync(Submission(4, SubmissionState.Committed), None);
        foreach (var final in new ulong[] { 2, 4 })
        {
            var proof = await store.GetFinalProofAsync(final, None);
            await store.SaveCommittedProofAsync([(byte)final], proof!, None);
        }

        await VerifyAsync(store, 12);
        return (store, clock);
    }

    [Fact]
    public async Task retention_deletes_proofs_and_inputs_only_of_finished_closed_sequences_verified_more_than_the_kept_number_ago()
    {
        using var dir = new TempDir();
        var (store, _) = await SetUpAsync(dir);
        await using var _ = store;
        var before = Rows(dir);

        // Verified, newest first: 12, 10, 8, 6, 4, 2. Keeping 2 leaves 8 and older: A (revealed) and D (no submission yet)
        // go, B (open submission) and C (still being proved) stay, like E and F (the two kept) and G (not verified).
        var first = await store.PruneAsync(2, Month, 1, None);
        Assert.Equal(1, first.Sequences);
        var rest = await store.PruneAsync(2, Month, 100, None);
        Assert.Equal(1, rest.Sequences);
        Assert.True((await store.PruneAsync(2, Month, 100, None)).IsEmpty);

        var after = Rows(dir);
        foreach (var final in new ulong[] { 2, 8 })
        {
            Assert.Equal((0, 0), (after.Tasks[final], after.Batches[final]));
        }

        foreach (var final in new ulong[] { 4, 6, 10, 12, 14 })
        {
            Assert.Equal((before.Tasks[final], before.Batches[final]), (after.Tasks[final], after.Batches[final]));
            Assert.Equal(2, after.Batches[final]);
        }

        Assert.Equal(before.Tasks[2] + before.Tasks[8], first.Tasks + rest.Tasks);
        Assert.Equal(4, first.Batches + rest.Batches);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.GetBatchInputAsync(1, None));
        Assert.NotNull(await store.GetBatchInputAsync(5, None));

        // Final proofs are young: all kept; and the open sequence C is still loaded by the generator.
        Assert.Equal(0, first.FinalProofs + rest.FinalProofs);
        Assert.Equal(6, await store.CountFinalProofsAsync(None));
        Assert.All(await store.LoadOpenTasksAsync(None), t => Assert.Equal(6UL, t.Sequence));
        Assert.Equal(2, (await store.LoadOpenTasksAsync(None)).Count);
    }

    [Fact]
    public async Task final_and_committed_proofs_go_after_their_retention_time_unless_unverified_or_open()
    {
        using var dir = new TempDir();
        var (store, clock) = await SetUpAsync(dir);
        await using var _ = store;

        Assert.True((await store.PruneAsync(100, Month, 100, None)).IsEmpty);
        clock.Advance(Month - TimeSpan.FromMinutes(1));
        Assert.True((await store.PruneAsync(100, Month, 100, None)).IsEmpty);

        clock.Advance(TimeSpan.FromMinutes(2));
        var one = await store.PruneAsync(100, Month, 1, None);
        Assert.Equal((1, 1), (one.FinalProofs, one.CommittedProofs));
        var rest = await store.PruneAsync(100, Month, 100, None);
        Assert.Equal(0, one.Sequences + rest.Sequences);

        // A, D, E, F (verified, closed) lose their final proofs; B (open) and G (not verified) keep theirs. A's committed
        // proof goes, B's stays.
        Assert.Equal(4, one.FinalProofs + rest.FinalProofs);
        Assert.Equal(1, one.CommittedProofs + rest.CommittedProofs);
        foreach (var final in new ulong[] { 2, 8, 10, 12 })
        {
            Assert.Null(await store.GetFinalProofAsync(final, None));
        }

        Assert.NotNull(await store.GetFinalProofAsync(4, None));
        Assert.NotNull(await store.GetFinalProofAsync(14, None));
        Assert.Null(await store.GetCommittedProofAsync(2, [2], None));
        Assert.NotNull(await store.GetCommittedProofAsync(4, [4], None));
        Assert.Equal(2, await store.CountFinalProofsAsync(None));
    }

    [Fact]
    public async Task nothing_is_deleted_before_any_sequence_is_verified()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(DateTimeOffset.UnixEpoch.AddYears(56));
        await using var store = await StoreBuilder.OpenAsync(dir, time: clock);
        await ProveAsync(store, StoreBuilder.Sequence(0, 3), clock.GetUtcNow());
        await ProveAsync(store, StoreBuilder.Sequence(3, 1), clock.GetUtcNow());
        clock.Advance(TimeSpan.FromDays(365));
        Assert.True((await store.PruneAsync(0, TimeSpan.FromHours(1), 100, None)).IsEmpty);
        Assert.Equal(2, await store.CountFinalProofsAsync(None));
        Assert.NotNull(await store.GetBatchInputAsync(1, None));
    }

    [Fact]
    public async Task a_discarded_sequence_stored_again_is_retained_again()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(DateTimeOffset.UnixEpoch.AddYears(56));
        await using var store = await StoreBuilder.OpenAsync(dir, time: clock);
        await store.AddSequenceAsync(StoreBuilder.Sequence(0, 2), None);
        await store.DiscardSequenceAsync(2, "reorg", None);
        await VerifyAsync(store, 2);
        Assert.Equal(1, (await store.PruneAsync(0, TimeSpan.FromHours(1), 100, None)).Sequences);

        // Stored afresh (new inputs): it is being proved, so nothing of it goes while it is open.
        Assert.Equal(2, (await store.AddSequenceAsync(StoreBuilder.Sequence(0, 2), None)).Count);
        Assert.True((await store.PruneAsync(0, TimeSpan.FromHours(1), 100, None)).IsEmpty);
        Assert.Equal(2, Rows(dir).Batches[2]);
    }

    [Fact]
    public async Task the_status_counters_are_answered_from_indexes()
    {
        using var dir = new TempDir();
        await using var store = await StoreBuilder.OpenAsync(dir);
        var tasks = string.Join(" | ", await store.ExplainAsync(SqliteStore.TaskCountsSql, None));
        Assert.Contains("SEARCH tasks USING COVERING INDEX tasks_by_state_kind", tasks, StringComparison.Ordinal);
        Assert.DoesNotContain("TEMP B-TREE", tasks, StringComparison.Ordinal);
        var finals = string.Join(" | ", await store.ExplainAsync(SqliteStore.FinalProofCountSql, None));
        Assert.Contains("SEARCH final_proofs USING COVERING INDEX final_proofs_by_created", finals, StringComparison.Ordinal);

        // The retention pass's own look-ups use indexes too.
        Assert.Contains("USING COVERING INDEX sync_events_by_kind",
            string.Join(" | ", await store.ExplainAsync("SELECT MAX(final_batch) FROM sync_events WHERE kind = 2;", None)), StringComparison.Ordinal);
        Assert.Contains("USING COVERING INDEX batches_by_sequence",
            string.Join(" | ", await store.ExplainAsync("DELETE FROM batches WHERE final_batch = 1;", None)), StringComparison.Ordinal);
        Assert.Contains("USING COVERING INDEX tasks_by_sequence",
            string.Join(" | ", await store.ExplainAsync("DELETE FROM tasks WHERE final_batch = 1;", None)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task the_background_pass_deletes_what_retention_allows()
    {
        using var dir = new TempDir();
        var (store, _) = await SetUpAsync(dir);
        await using var _ = store;
        var options = new StoreOptions { SqlitePath = dir.File("store.db"), RetainVerified = 2, RetentionInterval = TimeSpan.FromSeconds(1) };
        await using (var retention = new StoreRetention(store, options, TimeProvider.System,
                         Microsoft.Extensions.Logging.Abstractions.NullLogger<StoreRetention>.Instance))
        {
            retention.Start();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (retention.Passes == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Assert.True(retention.Passes > 0, "no retention pass within 60 s");
        }

        var rows = Rows(dir);
        Assert.Equal((0, 0, 2, 2), (rows.Batches[2], rows.Batches[8], rows.Batches[4], rows.Batches[10]));
    }

    [Theory]
    [InlineData("Store:RetainVerified")]
    [InlineData("Store:RetainFinalProofs")]
    [InlineData("Store:RetentionInterval")]
    [InlineData("Store:RetentionBatch")]
    public void bad_retention_settings_are_refused_naming_the_key(string key)
    {
        var options = key switch
        {
            "Store:RetainVerified" => new StoreOptions { RetainVerified = -1 },
            "Store:RetainFinalProofs" => new StoreOptions { RetainFinalProofs = TimeSpan.FromMinutes(5) },
            "Store:RetentionInterval" => new StoreOptions { RetentionInterval = TimeSpan.FromMilliseconds(10) },
            _ => new StoreOptions { RetentionBatch = 0 },
        };
        Assert.Equal(key, Assert.Throws<OptionsException>(options.Validate).Key);
        new StoreOptions { RetentionInterval = TimeSpan.Zero, RetainVerified = 0 }.Validate();
    }

    /// <summary>Claims and completes every task of the sequence through the store, ending with its final proof.</summary>
    private static async Task ProveAsync(SqliteStore store, SequenceInput sequence, DateTimeOffset now)
    {
        var prover = StoreBuilder.Prover();
        var ready = new Queue<ProofTask>(await store.AddSequenceAsync(sequence, None));
        while (ready.TryDequeue(out var task))
        {
            Assert.True(await store.TryClaimAsync(task.Id, prover, now, now.AddHours(1), None));
            if (task.Kind == TaskKind.Final)
            {
                Assert.True(await store.CompleteFinalAsync(task.Id, prover, new FinalProofRecord
                {
                    InitBatch = task.FromBatch,
                    FinalBatch = task.ToBatch,
                    Proof = "0xfinal",
                    AggregatorAddress = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                    NewStateRoot = new byte[32],
                    NewAccInputHash = new byte[32],
                    NewLocalExitRoot = new byte[32],
                    ProverName = prover.Name,
                    CreatedAt = now,
                }, None));
                continue;
            }

            var parent = AggregationTree.ParentOf(task.SequenceInit, task.Sequence, task.FromBatch, task.ToBatch);
            var result = await store.CompleteAsync(task.Id, prover, $"proof {task.FromBatch}-{task.ToBatch}", parent, None);
            Assert.True(result.Accepted);
            if (result.Unlocked is { } next)
            {
                ready.Enqueue(next);
            }
        }
    }

    private static Task VerifyAsync(SqliteStore store, ulong finalBatch) =>
        store.ApplyRangeAsync(new SyncRange(new SyncCursor(100 + finalBatch, "0xb"), [],
            [new SyncEventRecord(100 + finalBatch, "0xb", 0, SyncEventKind.VerifyBatches, finalBatch, "0xother", null)], []), None);

    private static SubmissionRecord Submission(ulong final, SubmissionState state) =>
        new() { FinalBatch = final, InitBatch = final - 2, State = state };

    /// <summary>Task rows and batch inputs per sequence, read straight from the file.</summary>
    private static (Dictionary<ulong, int> Tasks, Dictionary<ulong, int> Batches) Rows(TempDir dir)
    {
        using var raw = new SqliteConnection($"Data Source={dir.File("store.db")};Pooling=false");
        raw.Open();
        Dictionary<ulong, int> Count(string table)
        {
            var counts = Enumerable.Range(1, 7).ToDictionary(i => (ulong)(2 * i), _ => 0);
            using var command = raw.CreateCommand();
            command.CommandText = $"SELECT final_batch, COUNT(*) FROM {table} GROUP BY final_batch;";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                counts[(ulong)reader.GetInt64(0)] = reader.GetInt32(1);
            }

            return counts;
        }

        return (Count("tasks"), Count("batches"));
    }
}
