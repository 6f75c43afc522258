using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Storage;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Tests.Storage;

/// <summary>Retention on each store (<see cref="SqliteRetentionTests"/>, <see cref="PostgresRetentionTests"/>).</summary>
public abstract class RetentionTests(StoreTarget target) : IDisposable
{
    protected static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Month = TimeSpan.FromDays(30);
    private const string Sender = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    private const string Rollup = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
    private static readonly TxFees Fees = new(new System.Numerics.BigInteger(3_000_000_000), new System.Numerics.BigInteger(1_000_000_000), false);

    // Seven sequences of two batches: A (0,2] … G (12,14]. Every one is proved to its final proof except C, still being
    // proved; B's submission is open (committed); A's was revealed. verifyBatches covers up to 12 (F); G is not verified.
    private async Task<(IAggregatorStore Store, ManualClock Clock)> SetUpAsync()
    {
        var clock = new ManualClock(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var store = await Target.OpenAsync(clock);
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

    protected StoreTarget Target { get; } = target;

    public void Dispose()
    {
        Target.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task retention_deletes_proofs_and_inputs_only_of_finished_closed_sequences_verified_more_than_the_kept_number_ago()
    {
        var (store, _) = await SetUpAsync();
        await using var _ = store;
        var before = await RowsAsync();

        // Verified, newest first: 12, 10, 8, 6, 4, 2. Keeping 2 leaves 8 and older: A (revealed) and D (no submission yet)
        // go, B (open submission) and C (still being proved) stay, like E and F (the two kept) and G (not verified).
        var first = await store.PruneAsync(2, Month, 1, None);
        Assert.Equal(1, first.Sequences);
        var rest = await store.PruneAsync(2, Month, 100, None);
        Assert.Equal(1, rest.Sequences);
        Assert.True((await store.PruneAsync(2, Month, 100, None)).IsEmpty);

        var after = await RowsAsync();
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
        var (store, clock) = await SetUpAsync();
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
    public async Task our_finished_transactions_go_after_their_retention_time_only_for_verified_sequences_with_closed_submissions()
    {
        var (store, clock) = await SetUpAsync();
        await using var _ = store;
        var txs = (ITxStore)store;
        var nonce = 0UL;
        await txs.ReconcileNonceAsync(Sender, 0, None);
        async Task<long> TxAsync(string key, bool finish, bool replaced = false)
        {
            var kind = key.Split('/')[0];
            var created = await txs.CreateTxAsync(new TxRequest(key, kind, Rollup, [1, 2, 3]) { GasLimit = 90_000 }, Sender, None);
            var n = nonce++;
            var signed = await txs.StoreSignedAsync(created.Record.Id, Sender, given => new SignedTx(given, 90_000, Fees, [0xaa, (byte)n], $"0x{n:x}a"), None);
            await txs.TransitionTxAsync(signed!.Id, [TxState.Signed], new TxChange(TxState.Sent) { Broadcast = true }, None);
            if (replaced)
            {
                Assert.NotNull(await txs.StoreReplacementAsync(signed.Id, new SignedTx(signed.Nonce!.Value, 90_000, Fees, [0xbb, (byte)n], $"0x{n:x}b"), None));
            }

            if (finish)
            {
                await txs.TransitionTxAsync(signed.Id, [TxState.Sent], new TxChange(TxState.Mined) { BlockNumber = 50 + n, BlockHash = "0xb", Succeeded = true },
                    None);
                await txs.TransitionTxAsync(signed.Id, [TxState.Mined], new TxChange(TxState.Confirmed), None);
            }

            return signed.Id;
        }

        // A (revealed, verified): its hash and reveal (the reveal replaced once) go. B (committed: open) keeps its hash tx;
        // G (not verified) too; D's reveal is still open (sent); a tx whose key names no sequence is not ours to judge.
        var gone = new[] { await TxAsync("submitProofHash/2/0", true), await TxAsync("verifyBatches/2/0", true, replaced: true) };
        await TxAsync("submitProofHash/4/0", true);
        await TxAsync("submitProofHash/14/0", true);
        await TxAsync("verifyBatches/8/0", false);
        await TxAsync("fund/1", true);
        var versionsBefore = await Target.ScalarAsync("SELECT COUNT(*) FROM tx_versions;");

        Assert.Equal(0, (await store.PruneAsync(100, Month, 100, None)).Transactions);
        clock.Advance(Month + TimeSpan.FromMinutes(1));
        var one = await store.PruneAsync(100, Month, 1, None);
        var rest = await store.PruneAsync(100, Month, 100, None);
        Assert.Equal((1, 1), (one.Transactions, rest.Transactions));
        Assert.Equal(0, (await store.PruneAsync(100, Month, 100, None)).Transactions);

        foreach (var id in gone)
        {
            Assert.Null(await txs.GetTxAsync(id, None));
        }

        Assert.Null(await txs.GetTxAsync("verifyBatches/2/0", None));
        foreach (var key in new[] { "submitProofHash/4/0", "submitProofHash/14/0", "verifyBatches/8/0", "fund/1" })
        {
            Assert.NotNull(await txs.GetTxAsync(key, None));
        }

        Assert.Equal(versionsBefore - 3, await Target.ScalarAsync("SELECT COUNT(*) FROM tx_versions;"));
        Assert.Equal(4, await Target.ScalarAsync("SELECT COUNT(*) FROM txs;"));
    }

    [Fact]
    public async Task nothing_is_deleted_before_any_sequence_is_verified()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch.AddYears(56));
        await using var store = await Target.OpenAsync(clock);
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
        var clock = new ManualClock(DateTimeOffset.UnixEpoch.AddYears(56));
        await using var store = await Target.OpenAsync(clock);
        await store.AddSequenceAsync(StoreBuilder.Sequence(0, 2), None);
        await store.DiscardSequenceAsync(2, "reorg", None);
        await VerifyAsync(store, 2);
        Assert.Equal(1, (await store.PruneAsync(0, TimeSpan.FromHours(1), 100, None)).Sequences);

        // Stored afresh (new inputs): it is being proved, so nothing of it goes while it is open.
        Assert.Equal(2, (await store.AddSequenceAsync(StoreBuilder.Sequence(0, 2), None)).Count);
        Assert.True((await store.PruneAsync(0, TimeSpan.FromHours(1), 100, None)).IsEmpty);
        Assert.Equal(2, (await RowsAsync()).Batches[2]);
    }

    [Fact]
    public async Task the_background_pass_deletes_what_retention_allows()
    {
        var (store, _) = await SetUpAsync();
        await using var _ = store;
        var options = await Target.OptionsAsync();
        options.RetainVerified = 2;
        options.RetentionInterval = TimeSpan.FromSeconds(1);
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

        var rows = await RowsAsync();
        Assert.Equal((0, 0, 2, 2), (rows.Batches[2], rows.Batches[8], rows.Batches[4], rows.Batches[10]));
    }

    [Fact]
    public async Task other_miners_events_of_old_verified_sequences_go_and_every_dashboard_figure_stays()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch.AddYears(56));
        await using var store = await Target.OpenAsync(clock);
        var txs = (ITxStore)store;
        await txs.ReconcileNonceAsync(Sender, 0, None); // our sender, as the tx manager records it
        const string First = "0x00000000000000000000000000000000000000f1", Second = "0x00000000000000000000000000000000000000f2";
        var ours = Sender.ToLowerInvariant();

        // Six synced sequences (final batches 2 … 12), each committed and revealed by three miners (another first, then us,
        // then another); everyone is paid, the second other miner is slashed on 4; an epoch change in the range of 6.
        var sequences = new List<SyncedSequence>();
        var events = new List<SyncEventRecord>();
        foreach (var final in new ulong[] { 2, 4, 6, 8, 10, 12 })
        {
            var block = 100 + final;
            var hash = $"0x{block:x}";
            sequences.Add(new SyncedSequence(final, final - 2, block, hash, "0xtx", new byte[32], SyncSequenceStatus.Accepted, null));
            var log = 0;
            SyncEventRecord Event(SyncEventKind kind, string? account, string? value = null) =>
                new(block, hash, log++, kind, kind is SyncEventKind.SetProofCommitEpoch ? null : final, account, value);
            events.Add(Event(SyncEventKind.SequenceBatches, null));
            events.AddRange([Event(SyncEventKind.SubmitProofHash, First, "7"), Event(SyncEventKind.SubmitProofHash, ours, "7"),
                Event(SyncEventKind.SubmitProofHash, Second, "7")]);
            events.AddRange([Event(SyncEventKind.VerifyBatches, First), Event(SyncEventKind.VerifyBatches, ours), Event(SyncEventKind.VerifyBatches, Second)]);
            events.AddRange([Event(SyncEventKind.RewardPaid, First, "10"), Event(SyncEventKind.RewardPaid, ours, "10"), Event(SyncEventKind.RewardPaid, Second, "10")]);
            if (final == 4)
            {
                events.Add(Event(SyncEventKind.Slashed, Second, "5"));
            }

            if (final == 6)
            {
                events.Add(Event(SyncEventKind.SetProofCommitEpoch, null, "3"));
            }
        }

        await store.ApplyRangeAsync(new SyncRange(new SyncCursor(120, "0xend"), sequences, events, []), None);
        var earnings = await store.ListEarningsAsync(Sender, 100, None);
        var verifiedByFirst = await store.CountVerifiedByAsync(First, None);
        var recent = await store.ListSequenceStatusAsync(Sender, 2, None);
        var committers = await store.GetCommittersAsync(10, None);
        var before = await Target.ScalarAsync("SELECT COUNT(*) FROM sync_events;");
        Assert.Equal((6, 6), (earnings.Count, verifiedByFirst));

        // Verified up to 12, keeping 2: the events of 2 … 8 are pruned, one sequence per step as asked, then nothing more.
        var steps = new List<RetentionResult>();
        RetentionResult step;
        while (!(step = await store.PruneAsync(2, Month, 1, None)).IsEmpty)
        {
            steps.Add(step);
            Assert.True(steps.Count <= 10, "retention keeps finding events to prune");
        }

        Assert.Equal([1, 1, 1, 1], steps.Select(s => s.EventSequences));
        // Per pruned sequence: the others' hashes (2), the second's reveal (1), the others' rewards (2); the slash on 4.
        Assert.Equal(4 * 5 + 1, steps.Sum(s => s.Events));
        Assert.Equal(before - 21, await Target.ScalarAsync("SELECT COUNT(*) FROM sync_events;"));
        foreach (var final in new long[] { 2, 4, 6, 8 })
        {
            var left = await Target.QueryAsync($"SELECT kind, account FROM sync_events WHERE final_batch = {final} ORDER BY block_num, log_index;");
            Assert.Equal(["0:", "1:" + ours, $"2:{First}", "2:" + ours, "3:" + ours],
                left.Select(r => $"{r[0]}:{(r[1] is string a ? a : "")}"));
        }

        foreach (var final in new long[] { 10, 12 })
        {
            Assert.Equal(10, await Target.ScalarAsync($"SELECT COUNT(*) FROM sync_events WHERE final_batch = {final};"));
        }

        Assert.Equal(1, await Target.ScalarAsync("SELECT COUNT(*) FROM sync_events WHERE kind = 6;"));
        Assert.Equal(earnings, await store.ListEarningsAsync(Sender, 100, None));
        Assert.Equal(verifiedByFirst, await store.CountVerifiedByAsync(First, None));
        static string Shown(SequenceSyncStatus s) => $"{s.FinalBatch} {s.VerifiedBy} {s.RoundStart} {string.Join(",", s.Committers)}";
        Assert.Equal(recent.Select(Shown), (await store.ListSequenceStatusAsync(Sender, 2, None)).Select(Shown));
        Assert.Equal(3, recent[0].Committers.Count);
        Assert.Equal(committers, await store.GetCommittersAsync(10, None));
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
    private static async Task ProveAsync(IAggregatorStore store, SequenceInput sequence, DateTimeOffset now)
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

    private static Task VerifyAsync(IAggregatorStore store, ulong finalBatch) =>
        store.ApplyRangeAsync(new SyncRange(new SyncCursor(100 + finalBatch, "0xb"), [],
            [new SyncEventRecord(100 + finalBatch, "0xb", 0, SyncEventKind.VerifyBatches, finalBatch, "0xother", null)], []), None);

    private static SubmissionRecord Submission(ulong final, SubmissionState state) =>
        new() { FinalBatch = final, InitBatch = final - 2, State = state };

    /// <summary>Task rows and batch inputs per sequence, read straight from the database.</summary>
    private async Task<(Dictionary<ulong, int> Tasks, Dictionary<ulong, int> Batches)> RowsAsync()
    {
        async Task<Dictionary<ulong, int>> CountAsync(string table)
        {
            var counts = Enumerable.Range(1, 7).ToDictionary(i => (ulong)(2 * i), _ => 0);
            foreach (var row in await Target.QueryAsync($"SELECT final_batch, COUNT(*) FROM {table} GROUP BY final_batch;"))
            {
                counts[Convert.ToUInt64(row[0], System.Globalization.CultureInfo.InvariantCulture)] =
                    Convert.ToInt32(row[1], System.Globalization.CultureInfo.InvariantCulture);
            }

            return counts;
        }

        return (await CountAsync("tasks"), await CountAsync("batches"));
    }
}
