using System.Numerics;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Storage;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Tests.Storage;

/// <summary>The store's contract, run on each store (<see cref="SqliteStoreTests"/>, <see cref="PostgresStoreTests"/>).</summary>
public abstract class StoreTests(StoreTarget target) : IDisposable
{
    protected static readonly CancellationToken None = CancellationToken.None;

    protected StoreTarget Target { get; } = target;

    public void Dispose()
    {
        Target.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Asserts the durable settings of a freshly opened store (synchronous writes, and for SQLite WAL mode).</summary>
    protected abstract Task AssertDurableAsync(IAggregatorStore store);

    [Fact]
    public async Task an_empty_database_is_migrated_to_the_latest_version_with_durable_settings()
    {
        await using var store = await Target.OpenAsync();
        Assert.Equal(Migrations.All[^1].Version, await store.GetSchemaVersionAsync(None));
        await AssertDurableAsync(store);
    }

    [Fact]
    public async Task reopening_an_existing_database_keeps_its_data_and_applies_no_migration_twice()
    {
        await using (var store = await Target.OpenAsync())
        {
            await store.AddSequenceAsync(StoreBuilder.Sequence(0, 3), None);
        }

        await using (var again = await Target.OpenAsync())
        {
            Assert.Equal(3, (await again.LoadOpenTasksAsync(None)).Count);
            Assert.Equal(Migrations.All[^1].Version, await again.GetSchemaVersionAsync(None));
        }

        Assert.Equal(Migrations.All.Count, await Target.ScalarAsync("SELECT COUNT(*) FROM schema_migrations;"));
    }

    [Fact]
    public async Task a_database_from_a_newer_build_is_refused()
    {
        await using (var store = await Target.OpenAsync())
        {
        }

        await Target.QueryAsync("INSERT INTO schema_migrations (version, name, applied_ms) VALUES (999, 'future', 0);");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Target.OpenAsync());
        Assert.Contains("999", error.Message);
    }

    [Fact]
    public async Task adding_a_sequence_twice_creates_its_batch_tasks_once()
    {
        await using var store = await Target.OpenAsync();
        var first = await store.AddSequenceAsync(StoreBuilder.Sequence(4, 3), None);
        var second = await store.AddSequenceAsync(StoreBuilder.Sequence(4, 3), None);
        Assert.Equal([(4UL, 5UL), (5UL, 6UL), (6UL, 7UL)], first.Select(t => (t.FromBatch, t.ToBatch)));
        Assert.All(first, t => Assert.Equal((TaskKind.Batch, 7UL, 4UL), (t.Kind, t.Sequence, t.SequenceInit)));
        Assert.Empty(second);
    }

    [Fact]
    public async Task a_task_is_claimed_by_exactly_one_of_many_concurrent_claims()
    {
        await using var store = await Target.OpenAsync();
        var task = (await store.AddSequenceAsync(StoreBuilder.Sequence(0, 1), None))[0];
        var now = DateTimeOffset.UtcNow;
        var claims = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            store.TryClaimAsync(task.Id, StoreBuilder.Prover($"p{i}"), now, now.AddMinutes(1), None)));
        Assert.Single(claims, c => c);
    }

    [Fact]
    public async Task the_writes_of_one_task_made_without_waiting_apply_in_the_order_they_were_made()
    {
        // The generator sends a batch job while its claim commits and stores the job id without waiting either: a job id
        // applied ahead of its claim would be lost (the task not yet assigned), and a restart would redo the job.
        await using var store = await Target.OpenAsync();
        var tasks = await store.AddSequenceAsync(StoreBuilder.Sequence(0, 16), None);
        var now = DateTimeOffset.UtcNow;
        var writes = new List<Task<bool>>();
        foreach (var task in tasks)
        {
            var prover = StoreBuilder.Prover("p", $"i{task.Id}");
            writes.Add(store.TryClaimAsync(task.Id, prover, now, now.AddMinutes(1), None));
            writes.Add(store.RecordJobAsync(task.Id, prover, $"job-{task.Id}", now.AddMinutes(1), None));
        }

        Assert.All(await Task.WhenAll(writes), Assert.True);
        Assert.All(await store.LoadOpenTasksAsync(None), t => Assert.Equal($"job-{t.Id}", t.JobId));
    }

    [Fact]
    public async Task an_expired_lease_can_be_claimed_again()
    {
        await using var store = await Target.OpenAsync();
        var task = (await store.AddSequenceAsync(StoreBuilder.Sequence(0, 1), None))[0];
        var now = DateTimeOffset.UtcNow;
        Assert.True(await store.TryClaimAsync(task.Id, StoreBuilder.Prover("a"), now, now.AddSeconds(1), None));
        Assert.False(await store.TryClaimAsync(task.Id, StoreBuilder.Prover("b"), now, now.AddSeconds(1), None));
        Assert.True(await store.TryClaimAsync(task.Id, StoreBuilder.Prover("b"), now.AddSeconds(2), now.AddSeconds(3), None));
    }

    [Fact]
    public async Task completing_both_children_creates_their_aggregation_and_the_root_creates_the_final_task()
    {
        await using var store = await Target.OpenAsync();
        var tasks = await store.AddSequenceAsync(StoreBuilder.Sequence(0, 2), None);
        var p = StoreBuilder.Prover();
        var now = DateTimeOffset.UtcNow;
        foreach (var t in tasks)
        {
            Assert.True(await store.TryClaimAsync(t.Id, p, now, now.AddMinutes(1), None));
        }

        var first = await store.CompleteAsync(tasks[0].Id, p, "proof-1", AggregationTree.ParentOf(0, 2, 0, 1), None);
        Assert.True(first.Accepted);
        Assert.Null(first.Unlocked);

        var second = await store.CompleteAsync(tasks[1].Id, p, "proof-2", AggregationTree.ParentOf(0, 2, 1, 2), None);
        var aggregate = Assert.IsType<ProofTask>(second.Unlocked);
        Assert.Equal((TaskKind.Aggregate, 0UL, 2UL, tasks[0].Id, tasks[1].Id),
            (aggregate.Kind, aggregate.FromBatch, aggregate.ToBatch, aggregate.Input1, aggregate.Input2));
        Assert.Equal("proof-2", await store.GetProofAsync(tasks[1].Id, None));

        Assert.True(await store.TryClaimAsync(aggregate.Id, p, now, now.AddMinutes(1), None));
        var root = await store.CompleteAsync(aggregate.Id, p, "proof-12", AggregationTree.ParentOf(0, 2, 0, 2), None);
        var final = Assert.IsType<ProofTask>(root.Unlocked);
        Assert.Equal((TaskKind.Final, aggregate.Id), (final.Kind, final.Input1));
    }

    [Fact]
    public async Task a_proof_from_a_prover_that_no_longer_holds_the_task_is_refused()
    {
        await using var store = await Target.OpenAsync();
        var task = (await store.AddSequenceAsync(StoreBuilder.Sequence(0, 1), None))[0];
        var now = DateTimeOffset.UtcNow;
        Assert.True(await store.TryClaimAsync(task.Id, StoreBuilder.Prover("a", "1"), now, now.AddMinutes(1), None));
        var stale = await store.CompleteAsync(task.Id, StoreBuilder.Prover("a", "2"), "x", AggregationTree.ParentOf(0, 1, 0, 1), None);
        Assert.False(stale.Accepted);
    }

    [Fact]
    public async Task releases_count_attempts_and_park_the_task_at_the_limit()
    {
        await using var store = await Target.OpenAsync();
        var task = (await store.AddSequenceAsync(StoreBuilder.Sequence(0, 1), None))[0];
        var now = DateTimeOffset.UtcNow;
        var states = new List<TaskState>();
        for (var i = 0; i < 3; i++)
        {
            var p = StoreBuilder.Prover($"p{i}");
            Assert.True(await store.TryClaimAsync(task.Id, p, now, now.AddMinutes(1), None));
            var released = await store.ReleaseAsync(task.Id, p, ReleaseReason.Failed, $"boom {i}", maxAttempts: 3, None);
            states.Add(released!.State);
        }

        Assert.Equal([TaskState.Ready, TaskState.Ready, TaskState.Parked], states);
        var parked = Assert.Single(await store.ListParkedAsync(None));
        Assert.Equal((3, "boom 2"), (parked.Attempts, parked.LastError));
        Assert.Equal(["p0", "p1", "p2"], parked.FailedOn);

        var requeued = await store.RequeueAsync(task.Id, None);
        Assert.Equal((TaskState.Ready, 0), (requeued!.State, requeued.Attempts));
        Assert.Null(await store.RequeueAsync(task.Id, None));
    }

    [Fact]
    public async Task unassigning_counts_no_attempt()
    {
        await using var store = await Target.OpenAsync();
        var task = (await store.AddSequenceAsync(StoreBuilder.Sequence(0, 1), None))[0];
        var now = DateTimeOffset.UtcNow;
        var p = StoreBuilder.Prover();
        await store.TryClaimAsync(task.Id, p, now, now.AddMinutes(1), None);
        var released = await store.ReleaseAsync(task.Id, p, ReleaseReason.Unassigned, "shutdown", 1, None);
        Assert.Equal((TaskState.Ready, 0), (released!.State, released.Attempts));
    }

    [Fact]
    public async Task reproving_a_range_discards_its_proofs_and_recreates_its_batches_avoiding_their_makers()
    {
        await using var store = await Target.OpenAsync();
        var tasks = await store.AddSequenceAsync(StoreBuilder.Sequence(10, 2), None);
        var now = DateTimeOffset.UtcNow;
        ProofTask? aggregate = null;
        for (var i = 0; i < 2; i++)
        {
            var maker = StoreBuilder.Prover($"maker{i}");
            await store.TryClaimAsync(tasks[i].Id, maker, now, now.AddMinutes(1), None);
            var done = await store.CompleteAsync(tasks[i].Id, maker, $"bad-{i}",
                AggregationTree.ParentOf(10, 12, tasks[i].FromBatch, tasks[i].ToBatch), None);
            aggregate ??= done.Unlocked;
        }

        Assert.NotNull(aggregate);
        var fresh = await store.ReproveRangeAsync(aggregate.Id, None);
        Assert.Equal([(10UL, 11UL), (11UL, 12UL)], fresh.Select(t => (t.FromBatch, t.ToBatch)));
        Assert.All(fresh, t => Assert.Equal(["maker0", "maker1"], t.AvoidProvers.Order()));
        var open = await store.LoadOpenTasksAsync(None);
        Assert.Equal(fresh.Select(t => t.Id).Order(), open.Select(t => t.Id).Order());
        Assert.Null(await store.GetProofAsync(tasks[0].Id, None));
    }

    [Fact]
    public async Task a_final_proof_is_stored_with_its_roots_and_closes_the_sequence()
    {
        await using var store = await Target.OpenAsync();
        var batch = (await store.AddSequenceAsync(StoreBuilder.Sequence(0, 1), None))[0];
        var p = StoreBuilder.Prover();
        var now = DateTimeOffset.UtcNow;
        await store.TryClaimAsync(batch.Id, p, now, now.AddMinutes(1), None);
        var final = (await store.CompleteAsync(batch.Id, p, "r", AggregationTree.ParentOf(0, 1, 0, 1), None)).Unlocked!;
        await store.TryClaimAsync(final.Id, p, now, now.AddMinutes(1), None);
        var record = new FinalProofRecord
        {
            InitBatch = 0,
            FinalBatch = 1,
            Proof = "0xabcd",
            AggregatorAddress = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            NewStateRoot = new byte[32],
            NewAccInputHash = Enumerable.Repeat((byte)1, 32).ToArray(),
            NewLocalExitRoot = new byte[32],
            ProverName = "p1",
            CreatedAt = now,
        };
        Assert.True(await store.CompleteFinalAsync(final.Id, p, record, None));
        var stored = await store.GetFinalProofAsync(1, None);
        Assert.Equal(("0xabcd", (byte)1), (stored!.Proof, stored.NewAccInputHash[31]));
        Assert.Empty(await store.LoadOpenTasksAsync(None));
        Assert.Equal(1, await store.CountFinalProofsAsync(None));
    }

    [Fact]
    public async Task a_failing_write_does_not_undo_the_writes_made_with_it()
    {
        await using var store = await Target.OpenAsync();
        var bad = new SequenceInput(5, 7, [StoreBuilder.Batch(6), StoreBuilder.Batch(7)]);
        var writes = Enumerable.Range(0, 50).Select(i => store.AddSequenceAsync(StoreBuilder.Sequence(1000 + (ulong)i, 1), None)).ToList();
        await store.AddSequenceAsync(bad, None);
        // Batch 7 already belongs to the sequence (5,7]: a sequence (6,8] violates the batches primary key.
        var failing = store.AddSequenceAsync(StoreBuilder.Sequence(6, 2), None);
        writes.AddRange(Enumerable.Range(50, 50).Select(i => store.AddSequenceAsync(StoreBuilder.Sequence(1000 + (ulong)i, 1), None)));
        await Task.WhenAll(writes);
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => failing);
        var open = await store.LoadOpenTasksAsync(None);
        Assert.Equal(102, open.Count);
        Assert.DoesNotContain(open, t => t.Sequence == 8);
    }

    [Fact]
    public async Task a_transaction_is_created_once_per_key_signed_with_the_next_nonce_replaced_and_finished()
    {
        const string sender = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
        const string to = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
        await using var store = await Target.OpenAsync();
        var request = new TxRequest("submitProofHash/9/0", "submitProofHash", to, [1, 2, 3]) { Value = new BigInteger(5), GasLimit = 90_000 };
        var created = await store.CreateTxAsync(request, sender, None);
        var again = await store.CreateTxAsync(request with { Data = [9] }, sender, None);
        Assert.True(created.Created);
        Assert.False(again.Created);
        Assert.Equal((created.Record.Id, TxState.Created), (again.Record.Id, again.Record.State));
        Assert.Equal([1, 2, 3], again.Record.Data);
        Assert.Equal(sender.ToLowerInvariant(), created.Record.Sender);

        Assert.Equal(4UL, await store.ReconcileNonceAsync(sender, 4, None));
        Assert.Equal(4UL, await store.ReconcileNonceAsync(sender, 2, None));
        var fees = new TxFees(new BigInteger(3_000_000_000), new BigInteger(1_000_000_000), false);
        var signed = await store.StoreSignedAsync(created.Record.Id, sender, n => new SignedTx(n, 90_000, fees, [0xaa], "0x01"), None);
        Assert.Equal((TxState.Signed, 4UL, "0x01", (TxFees?)fees), (signed!.State, signed.Nonce, signed.TxHash, signed.Fees));
        Assert.Null(await store.StoreSignedAsync(created.Record.Id, sender, n => new SignedTx(n, 90_000, fees, [0xab], "0x02"), None));
        Assert.Equal(5UL, await store.ReconcileNonceAsync(sender, 0, None));

        var sent = await store.TransitionTxAsync(signed.Id, [TxState.Signed], new TxChange(TxState.Sent) { Broadcast = true }, None);
        Assert.NotNull(sent!.SentAt);
        var bumped = new TxFees(new BigInteger(6_000_000_000), new BigInteger(2_000_000_000), false);
        var replaced = await store.StoreReplacementAsync(signed.Id, new SignedTx(4, 90_000, bumped, [0xbb], "0x03"), None);
        Assert.Equal((1, "0x03", (TxFees?)bumped), (replaced!.Replacements, replaced.TxHash, replaced.Fees));
        Assert.Null(await store.StoreReplacementAsync(signed.Id, new SignedTx(7, 90_000, bumped, [0xbc], "0x04"), None));
        Assert.Equal(["0x01", "0x03"], await store.GetTxHashesAsync(signed.Id, None));

        var mined = await store.TransitionTxAsync(signed.Id, [TxState.Sent], new TxChange(TxState.Mined)
        {
            BlockNumber = 77,
            BlockHash = "0xb77",
            Succeeded = false,
            Revert = ChainRevert.Decode(null, "execution reverted"),
        }, None);
        Assert.Equal((77UL, "0xb77", (bool?)false), (mined!.BlockNumber, mined.BlockHash, mined.Succeeded));
        Assert.NotNull(mined.Revert);
        var reorged = await store.TransitionTxAsync(signed.Id, [TxState.Mined], new TxChange(TxState.Sent) { ClearBlock = true, CountReorg = true }, None);
        Assert.Equal((null, null, (bool?)null, 1), (reorged!.BlockNumber, reorged.BlockHash, reorged.Succeeded, reorged.Reorgs));
        Assert.Null(await store.TransitionTxAsync(signed.Id, [TxState.Mined], new TxChange(TxState.Confirmed), None));
        Assert.Single(await store.LoadOpenTxsAsync(sender.ToUpperInvariant().Replace("0X", "0x", StringComparison.Ordinal), None));
        await store.TransitionTxAsync(signed.Id, [TxState.Sent], new TxChange(TxState.Confirmed) { BlockNumber = 78, Succeeded = true }, None);
        Assert.Empty(await store.LoadOpenTxsAsync(sender, None));
        Assert.Equal(TxState.Confirmed, (await store.GetTxAsync("submitProofHash/9/0", None))!.State);
        Assert.Equal(1, (await store.CountTxsAsync(None))[TxState.Confirmed]);
    }

    [Fact]
    public async Task a_receipt_of_an_earlier_version_makes_that_version_the_record_whatever_was_signed_after_it()
    {
        const string sender = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
        const string to = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
        await using var store = await Target.OpenAsync();
        var request = new TxRequest("submitProofHash/3/0", "submitProofHash", to, [1, 2, 3]) { Value = new BigInteger(5), GasLimit = 90_000 };
        var created = await store.CreateTxAsync(request, sender, None);
        await store.ReconcileNonceAsync(sender, 2, None);
        var fees = new TxFees(new BigInteger(3_000_000_000), new BigInteger(1_000_000_000), false);
        var original = (await store.StoreSignedAsync(created.Record.Id, sender, n => new SignedTx(n, 90_000, fees, [0xaa], "0x01"), None))!;
        var bumped = new TxFees(new BigInteger(4_000_000_000), new BigInteger(2_000_000_000), false);
        await store.StoreReplacementAsync(original.Id, new SignedTx(2, 90_000, bumped, [0xbb], "0x02"), None);
        var cancelFees = new TxFees(new BigInteger(9_000_000_000), new BigInteger(3_000_000_000), false);
        var cancel = await store.StoreCancelAsync(original.Id, new SignedTx(2, 21_000, cancelFees, [0xcc], "0x03"), sender, None);
        Assert.Equal((TxRequest.CancelKind, sender, 21_000UL, "0x03"), (cancel!.Kind, cancel.To, cancel.GasLimit, cancel.TxHash));

        // The fee replacement (version 1) is the one mined: the record is the hash tx again, with that version's fees.
        var mined = await store.TransitionTxAsync(original.Id, [TxState.Signed, TxState.Sent], new TxChange(TxState.Mined)
        {
            TxHash = "0x02",
            BlockNumber = 9,
            BlockHash = "0xb9",
            Succeeded = true,
        }, None);
        Assert.Equal(("submitProofHash", to.ToLowerInvariant(), new BigInteger(5), 90_000UL), (mined!.Kind, mined.To, mined.Value, mined.GasLimit));
        Assert.Equal([1, 2, 3], mined.Data);
        Assert.Equal([0xbb], mined.RawTx);
        Assert.Equal(("0x02", (TxFees?)bumped), (mined.TxHash, mined.Fees));
        Assert.Equal((TxState.Mined, 2, (ulong?)2), (mined.State, mined.Replacements, mined.Nonce));

        // A reorg, and the cancel is mined after all: the record is the cancel.
        await store.TransitionTxAsync(original.Id, [TxState.Mined], new TxChange(TxState.Sent) { ClearBlock = true, CountReorg = true }, None);
        var cancelled = await store.TransitionTxAsync(original.Id, [TxState.Sent], new TxChange(TxState.Confirmed)
        {
            TxHash = "0x03",
            BlockNumber = 10,
            BlockHash = "0xb10",
            Succeeded = true,
        }, None);
        Assert.Equal((TxRequest.CancelKind, sender, BigInteger.Zero, 21_000UL), (cancelled!.Kind, cancelled.To, cancelled.Value, cancelled.GasLimit));
        Assert.Empty(cancelled.Data);
        Assert.Equal([0xcc], cancelled.RawTx);
        Assert.Equal(("0x03", (TxFees?)cancelFees), (cancelled.TxHash, cancelled.Fees));
    }

    [Fact]
    public async Task a_synced_range_is_recorded_with_its_cursor_and_a_rollback_removes_what_came_after_the_fork()
    {
        await using var store = await Target.OpenAsync();
        Assert.Null(await store.GetCursorAsync(None));
        static SyncedSequence Sequence(ulong final, ulong block) =>
            new(final, final - 2, block, $"0xb{block}", $"0xt{final}", [(byte)final], SyncSequenceStatus.Accepted, null);
        await store.ApplyRangeAsync(new SyncRange(new SyncCursor(20, "0xb20"), [Sequence(2, 10), Sequence(4, 15)],
            [
                new SyncEventRecord(12, "0xb12", 0, SyncEventKind.SubmitProofHash, 2, "0xaa", "3"),
                new SyncEventRecord(16, "0xb16", 1, SyncEventKind.VerifyBatches, 2, "0xbb", null),
                new SyncEventRecord(18, "0xb18", 0, SyncEventKind.SubmitProofHash, 4, "0xcc", "5"),
            ], []), None);
        Assert.Equal(new SyncCursor(20, "0xb20"), await store.GetCursorAsync(None));
        Assert.Equal([18UL, 16UL, 15UL], (await store.GetRecordedBlocksAsync(3, None)).Select(b => b.BlockNumber));
        Assert.Equal(["0xaa"], await store.GetCommittersAsync(2, None));
        var status = await store.ListSequenceStatusAsync("0xAA", 10, None);
        Assert.Equal([4UL, 2UL], status.Select(s => s.FinalBatch));
        Assert.Equal(("0xbb", 3UL), (status[1].VerifiedBy, status[1].RoundStart));
        Assert.True(Assert.Single(status[1].Committers).Ours);
        Assert.Equal(new byte[] { 4 }, (await store.GetSequenceAsync(4, None))!.AccInputHash);

        await store.ApplyRangeAsync(new SyncRange(new SyncCursor(21, "0xb21"), [], [], [(4UL, "reorged away")]), None);
        Assert.Equal((SyncSequenceStatus)2, (await store.GetSequenceAsync(4, None))!.Status);

        var removed = await store.RollbackAsync(new SyncCursor(14, "0xb14"), None);
        Assert.Equal([4UL], removed.Select(s => s.FinalBatch));
        Assert.Equal(new SyncCursor(14, "0xb14"), await store.GetCursorAsync(None));
        Assert.Empty(await store.GetSequencesAfterAsync(14, None));
        Assert.Equal([2UL], (await store.GetSequencesAfterAsync(0, None)).Select(s => s.FinalBatch));
        Assert.Equal([12UL, 10UL], (await store.GetRecordedBlocksAsync(5, None)).Select(b => b.BlockNumber));
    }

    [Fact]
    public async Task the_dashboard_reads_join_sync_generator_sender_and_transactions()
    {
        const string us = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
        await using var store = await Target.OpenAsync();
        await store.ApplyRangeAsync(new SyncRange(new SyncCursor(30, "0xb30"),
            [
                new SyncedSequence(2, 0, 10, "0xb10", "0xt2", [2], SyncSequenceStatus.Accepted, null),
                new SyncedSequence(4, 2, 11, "0xb11", "0xt4", [4], SyncSequenceStatus.Accepted, null),
            ],
            [
                new SyncEventRecord(12, "0xb12", 0, SyncEventKind.SubmitProofHash, 2, us, "12"),
                new SyncEventRecord(13, "0xb13", 0, SyncEventKind.SubmitProofHash, 2, "0xother", "12"),
                new SyncEventRecord(20, "0xb20", 0, SyncEventKind.VerifyBatches, 2, us, null),
                new SyncEventRecord(20, "0xb20", 1, SyncEventKind.RewardPaid, 2, us, "1000"),
                new SyncEventRecord(21, "0xb21", 0, SyncEventKind.Slashed, null, us, "7"),
            ], []), None);
        var tasks = await store.AddSequenceAsync(StoreBuilder.Sequence(2, 2), None);
        var p = StoreBuilder.Prover();
        var now = DateTimeOffset.UtcNow;
        Assert.True(await store.TryClaimAsync(tasks[0].Id, p, now, now.AddMinutes(1), None));
        await store.CompleteAsync(tasks[0].Id, p, "proof", AggregationTree.ParentOf(2, 4, 2, 3), None);
        await store.ParkAsync(tasks[1].Id, "stuck", None);
        await store.SaveSubmissionAsync(new SubmissionRecord { FinalBatch = 2, InitBatch = 0, State = SubmissionState.Revealed, RoundStart = 12 }, None);
        await store.CreateTxAsync(new TxRequest("k/1", "submitProofHash", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", [1]), us, None);

        var rows = await store.ListDashboardSequencesAsync(10, None);
        Assert.Equal([4UL, 2UL], rows.Select(r => r.FinalBatch));
        var (proving, verified) = (rows[0], rows[1]);
        Assert.Equal((0, 2, 1, 1, false), (proving.GeneratorState, proving.TasksTotal, proving.TasksDone, proving.TasksParked, proving.HasFinalProof));
        Assert.Null(proving.Submission);
        Assert.Equal((SubmissionState.Revealed, 12UL, us, 20UL, 2), (verified.Submission!.Value, verified.RoundStart!.Value, verified.VerifiedBy,
            verified.VerifiedBlock!.Value, verified.Committers));
        Assert.Null(verified.GeneratorState);

        var tx = Assert.Single(await store.ListDashboardTxsAsync(5, None));
        Assert.Equal(("submitProofHash", "k/1", "Created"), (tx.Kind, tx.Key, tx.State));
        var earnings = await store.ListEarningsAsync(us.ToUpperInvariant().Replace("0X", "0x", StringComparison.Ordinal), 10, None);
        Assert.Equal([("reward", "1000", (ulong?)2), ("slash", "7", null)], earnings.Select(e => (e.Kind, e.AmountWei, e.FinalBatch)));
        Assert.Equal(1, await store.CountVerifiedByAsync(us, None));
        Assert.Equal(0, await store.CountVerifiedByAsync("0xother", None));
    }
}
