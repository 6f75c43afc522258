using Microsoft.Data.Sqlite;
using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Storage;

public sealed partial class SqliteStore
{
    private const string TaskColumns =
        "id, final_batch, seq_init, kind, from_batch, to_batch, input1, input2, state, attempts, prover_name, prover_instance, " +
        "job_id, lease_until_ms, last_error, failed_on, avoid_provers";

    public Task<IReadOnlyList<ProofTask>> AddSequenceAsync(SequenceInput sequence, CancellationToken cancellationToken)
    {
        sequence.Validate();
        var now = NowMs;
        // Bulk: the claims and proofs of running jobs queued after it may commit first (a sync of many sequences at once).
        return _writer.WriteBulkAsync<IReadOnlyList<ProofTask>>((connection, transaction) =>
        {
            using (var insert = Command(connection, transaction,
                """
                INSERT INTO sequences (final_batch, init_batch, state, created_ms) VALUES ($f, $i, 0, $t)
                ON CONFLICT (final_batch) DO UPDATE SET init_batch = excluded.init_batch, state = 0, created_ms = excluded.created_ms, pruned = 0
                WHERE sequences.state = 2;
                """))
            {
                Bind(insert, "$f", L(sequence.FinalBatch));
                Bind(insert, "$i", L(sequence.InitBatch));
                Bind(insert, "$t", now);
                if (insert.ExecuteNonQuery() == 0)
                {
                    return [];
                }
            }

            using var batch = Command(connection, transaction,
                "INSERT INTO batches (batch_num, final_batch, prover_input) VALUES ($b, $f, $p);");
            var b = batch.Parameters.Add("$b", SqliteType.Integer);
            batch.Parameters.AddWithValue("$f", L(sequence.FinalBatch));
            var p = batch.Parameters.Add("$p", SqliteType.Blob);
            foreach (var input in sequence.Batches)
            {
                b.Value = L(input.Number);
                p.Value = input.ProverInput;
                batch.ExecuteNonQuery();
            }

            var created = new List<ProofTask>(sequence.Batches.Count);
            foreach (var input in sequence.Batches)
            {
                created.Add(InsertTask(connection, transaction, sequence.FinalBatch, sequence.InitBatch, TaskKind.Batch, input.Number - 1, input.Number,
                    null, null, [], now)!);
            }

            return created;
        }, cancellationToken);
    }

    private static string[] AvoidList(string stored) =>
        [.. stored.Split(',', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal)];

    /// <summary>
    /// Inserts a ready task (none if one of that range and kind is live). Its id is above every id this store has
    /// inserted since it opened, committed or not: AUTOINCREMENT alone would give the id of a task whose group failed to
    /// commit to the next task, and a parent announced before its group committed (<see cref="CompleteAsync(long, ProverRef,
    /// string, ParentSpec, Action{CompletionResult}, CancellationToken)"/>) could then be claimed as another task. Runs on the
    /// writer's thread only.
    /// </summary>
    private ProofTask? InsertTask(SqliteConnection connection, SqliteTransaction transaction, ulong sequence, ulong sequenceInit,
        TaskKind kind, ulong from, ulong to, long? input1, long? input2, IReadOnlyList<string> avoid, long now)
    {
        using var insert = Command(connection, transaction, $"""
            INSERT INTO tasks (id, final_batch, seq_init, kind, from_batch, to_batch, input1, input2, state, attempts, avoid_provers, created_ms, updated_ms)
            VALUES (max($floor, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'tasks'), 0) + 1),
                    $s, $si, $k, $f, $t, $i1, $i2, 0, 0, $a, $now, $now)
            ON CONFLICT DO NOTHING
            RETURNING {TaskColumns};
            """);
        Bind(insert, "$floor", _taskIdFloor);
        Bind(insert, "$s", L(sequence));
        Bind(insert, "$si", L(sequenceInit));
        Bind(insert, "$k", (int)kind);
        Bind(insert, "$f", L(from));
        Bind(insert, "$t", L(to));
        Bind(insert, "$i1", input1);
        Bind(insert, "$i2", input2);
        Bind(insert, "$a", string.Join(',', avoid));
        Bind(insert, "$now", now);
        using var reader = insert.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        var task = ReadTask(reader);
        _taskIdFloor = Math.Max(_taskIdFloor, task.Id + 1);
        return task;
    }

    private static ProofTask ReadTask(SqliteDataReader r)
    {
        string? Str(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        IReadOnlyList<string> List(int i) => r.IsDBNull(i) ? [] : r.GetString(i).Split(',', StringSplitOptions.RemoveEmptyEntries);
        var name = Str(10);
        var instance = Str(11);
        return new ProofTask
        {
            Id = r.GetInt64(0),
            Sequence = (ulong)r.GetInt64(1),
            SequenceInit = (ulong)r.GetInt64(2),
            Kind = (TaskKind)r.GetInt32(3),
            FromBatch = (ulong)r.GetInt64(4),
            ToBatch = (ulong)r.GetInt64(5),
            Input1 = r.IsDBNull(6) ? null : r.GetInt64(6),
            Input2 = r.IsDBNull(7) ? null : r.GetInt64(7),
            State = (TaskState)r.GetInt32(8),
            Attempts = r.GetInt32(9),
            Prover = name is null || instance is null ? null : ProverRef.FromStored(name, instance),
            JobId = Str(12),
            LeaseUntil = r.IsDBNull(13) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(13)),
            LastError = Str(14),
            FailedOn = List(15),
            AvoidProvers = List(16),
        };
    }

    public async Task<IReadOnlyList<ProofTask>> LoadOpenTasksAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"""
            SELECT {TaskColumns} FROM tasks
            WHERE state <> 4 AND final_batch IN (SELECT final_batch FROM sequences WHERE state = 0)
            ORDER BY final_batch, id;
            """);
        using var reader = command.ExecuteReader();
        var tasks = new List<ProofTask>();
        while (reader.Read())
        {
            tasks.Add(ReadTask(reader));
        }

        return tasks;
    }

    public async Task<IReadOnlyList<ProofTask>> ListExpiredLeasesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"""
            SELECT {TaskColumns} FROM tasks
            WHERE state = 1 AND lease_until_ms < $now AND final_batch IN (SELECT final_batch FROM sequences WHERE state = 0)
            ORDER BY lease_until_ms LIMIT $limit;
            """);
        Bind(command, "$now", now.ToUnixTimeMilliseconds());
        Bind(command, "$limit", limit);
        using var reader = command.ExecuteReader();
        var tasks = new List<ProofTask>();
        while (reader.Read())
        {
            tasks.Add(ReadTask(reader));
        }

        return tasks;
    }

    public async Task<byte[]> GetBatchInputAsync(ulong batch, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "SELECT prover_input FROM batches WHERE batch_num = $b;");
        Bind(command, "$b", L(batch));
        return command.ExecuteScalar() as byte[] ?? throw new KeyNotFoundException($"no prover input stored for batch {batch}");
    }

    public async Task<string?> GetProofAsync(long taskId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "SELECT proof FROM tasks WHERE id = $id AND state = 2;");
        Bind(command, "$id", taskId);
        return command.ExecuteScalar() as string;
    }

    public Task<bool> TryClaimAsync(long taskId, ProverRef prover, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        Claim(taskId, prover, now, leaseUntil, ahead: false, cancellationToken);

    public Task<bool> TryClaimAheadAsync(long taskId, ProverRef prover, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        Claim(taskId, prover, now, leaseUntil, ahead: true, cancellationToken);

    private Task<bool> Claim(long taskId, ProverRef prover, DateTimeOffset now, DateTimeOffset leaseUntil, bool ahead, CancellationToken cancellationToken) =>
        _writer.WriteAsync((connection, transaction) =>
        {
            using var command = Command(connection, transaction, """
                UPDATE tasks SET state = 1, prover_name = $n, prover_instance = $i, job_id = NULL, lease_until_ms = $l, updated_ms = $now
                WHERE id = $id AND (state = 0 OR (state = 1 AND lease_until_ms < $now));
                """);
            Bind(command, "$n", prover.Name);
            Bind(command, "$i", prover.StoredInstance);
            Bind(command, "$l", leaseUntil.ToUnixTimeMilliseconds());
            Bind(command, "$now", now.ToUnixTimeMilliseconds());
            Bind(command, "$id", taskId);
            return command.ExecuteNonQuery() == 1;
        }, ahead, cancellationToken);

    public Task<bool> RecordJobAsync(long taskId, ProverRef prover, string jobId, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        RecordJob(taskId, prover, jobId, leaseUntil, ahead: false, cancellationToken);

    public Task<bool> RecordJobAheadAsync(long taskId, ProverRef prover, string jobId, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        RecordJob(taskId, prover, jobId, leaseUntil, ahead: true, cancellationToken);

    private Task<bool> RecordJob(long taskId, ProverRef prover, string jobId, DateTimeOffset leaseUntil, bool ahead, CancellationToken cancellationToken)
    {
        var now = NowMs;
        return _writer.WriteAsync((connection, transaction) =>
        {
            using var command = Command(connection, transaction, """
                UPDATE tasks SET job_id = $j, lease_until_ms = $l, updated_ms = $now
                WHERE id = $id AND state = 1 AND prover_name = $n AND prover_instance = $i;
                """);
            Bind(command, "$j", jobId);
            Bind(command, "$l", leaseUntil.ToUnixTimeMilliseconds());
            Bind(command, "$now", now);
            Bind(command, "$id", taskId);
            Bind(command, "$n", prover.Name);
            Bind(command, "$i", prover.StoredInstance);
            return command.ExecuteNonQuery() == 1;
        }, ahead, cancellationToken);
    }

    private static bool MarkDone(SqliteConnection connection, SqliteTransaction transaction, long taskId, ProverRef prover, string? proof, long now)
    {
        using var command = Command(connection, transaction, """
            UPDATE tasks SET state = 2, proof = $p, made_by = $n, lease_until_ms = NULL, updated_ms = $now
            WHERE id = $id AND state = 1 AND prover_name = $n AND prover_instance = $i;
            """);
        Bind(command, "$p", proof);
        Bind(command, "$n", prover.Name);
        Bind(command, "$i", prover.StoredInstance);
        Bind(command, "$now", now);
        Bind(command, "$id", taskId);
        return command.ExecuteNonQuery() == 1;
    }

    public Task<CompletionResult> CompleteAsync(long taskId, ProverRef prover, string proof, ParentSpec parent, CancellationToken cancellationToken) =>
        Complete(taskId, prover, proof, parent, null, cancellationToken);

    /// <summary>Calls <paramref name="applied"/> once the write is applied, before its group commits: a parent task can be
    /// handed out while its input's proof is being made durable. If the commit fails, the parent's id stays used
    /// (<see cref="InsertTask"/>).</summary>
    public Task<CompletionResult> CompleteAsync(long taskId, ProverRef prover, string proof, ParentSpec parent, Action<CompletionResult> applied,
        CancellationToken cancellationToken) =>
        Complete(taskId, prover, proof, parent, applied, cancellationToken);

    private Task<CompletionResult> Complete(long taskId, ProverRef prover, string proof, ParentSpec parent, Action<CompletionResult>? applied,
        CancellationToken cancellationToken)
    {
        var now = NowMs;
        return _writer.WriteAsync((connection, transaction) =>
        {
            if (!MarkDone(connection, transaction, taskId, prover, proof, now))
            {
                return new CompletionResult(false, null);
            }

            ulong sequence, sequenceInit;
            string avoid;
            using (var seqCommand = Command(connection, transaction, "SELECT final_batch, seq_init, avoid_provers FROM tasks WHERE id = $id;"))
            {
                Bind(seqCommand, "$id", taskId);
                using var reader = seqCommand.ExecuteReader();
                reader.Read();
                (sequence, sequenceInit) = ((ulong)reader.GetInt64(0), (ulong)reader.GetInt64(1));
                avoid = reader.IsDBNull(2) ? string.Empty : reader.GetString(2);
            }

            // A parent avoids what its inputs avoided (the makers of a rejected final proof, or of suspect inputs).
            if (!parent.HasSibling)
            {
                return new CompletionResult(true,
                    InsertTask(connection, transaction, sequence, sequenceInit, parent.Kind, parent.FromBatch, parent.ToBatch, taskId, null, AvoidList(avoid), now));
            }

            using var sibling = Command(connection, transaction, """
                SELECT id, avoid_provers FROM tasks WHERE final_batch = $s AND kind IN (0, 1) AND from_batch = $f AND to_batch = $t AND state = 2;
                """);
            Bind(sibling, "$s", L(sequence));
            Bind(sibling, "$f", L(parent.SiblingFrom));
            Bind(sibling, "$t", L(parent.SiblingTo));
            long siblingId;
            using (var reader = sibling.ExecuteReader())
            {
                if (!reader.Read())
                {
                    return new CompletionResult(true, null);
                }

                siblingId = reader.GetInt64(0);
                avoid = reader.IsDBNull(1) ? avoid : $"{avoid},{reader.GetString(1)}";
            }

            var (left, right) = parent.IsLeftChild ? (taskId, siblingId) : (siblingId, taskId);
            return new CompletionResult(true,
                InsertTask(connection, transaction, sequence, sequenceInit, parent.Kind, parent.FromBatch, parent.ToBatch, left, right, AvoidList(avoid), now));
        }, applied, cancellationToken);
    }

    public Task<bool> CompleteFinalAsync(long taskId, ProverRef prover, FinalProofRecord proof, CancellationToken cancellationToken)
    {
        var now = NowMs;
        return _writer.WriteAsync((connection, transaction) =>
        {
            if (!MarkDone(connection, transaction, taskId, prover, null, now))
            {
                return false;
            }

            using var insert = Command(connection, transaction, """
                INSERT INTO final_proofs (final_batch, init_batch, proof, aggregator_addr, new_state_root, new_acc_input_hash,
                                          new_local_exit_root, prover_name, created_ms)
                VALUES ($f, $i, $p, $a, $sr, $ah, $ler, $n, $now)
                ON CONFLICT (final_batch) DO UPDATE SET init_batch = excluded.init_batch, proof = excluded.proof,
                    aggregator_addr = excluded.aggregator_addr, new_state_root = excluded.new_state_root,
                    new_acc_input_hash = excluded.new_acc_input_hash, new_local_exit_root = excluded.new_local_exit_root,
                    prover_name = excluded.prover_name, created_ms = excluded.created_ms;
                """);
            Bind(insert, "$f", L(proof.FinalBatch));
            Bind(insert, "$i", L(proof.InitBatch));
            Bind(insert, "$p", proof.Proof);
            Bind(insert, "$a", proof.AggregatorAddress);
            Bind(insert, "$sr", proof.NewStateRoot);
            Bind(insert, "$ah", proof.NewAccInputHash);
            Bind(insert, "$ler", proof.NewLocalExitRoot);
            Bind(insert, "$n", proof.ProverName);
            Bind(insert, "$now", now);
            insert.ExecuteNonQuery();
            using var sequence = Command(connection, transaction, "UPDATE sequences SET state = 1 WHERE final_batch = $f AND state = 0;");
            Bind(sequence, "$f", L(proof.FinalBatch));
            sequence.ExecuteNonQuery();
            return true;
        }, cancellationToken);
    }

    public Task<ProofTask?> ReleaseAsync(long taskId, ProverRef prover, ReleaseReason reason, string error, int maxAttempts,
        CancellationToken cancellationToken)
    {
        var now = NowMs;
        var (increment, failed) = reason switch
        {
            ReleaseReason.Failed => (1, true),
            ReleaseReason.Lost or ReleaseReason.Restarted => (1, false),
            ReleaseReason.Unassigned => (0, false),
            _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
        };
        return _writer.WriteAsync((connection, transaction) =>
        {
            using var command = Command(connection, transaction, $"""
                UPDATE tasks SET
                    state = CASE WHEN attempts + $inc >= $max THEN 3 ELSE 0 END,
                    attempts = attempts + $inc,
                    last_error = $e,
                    failed_on = CASE WHEN $failed = 1 THEN failed_on || $n || ',' ELSE failed_on END,
                    prover_name = NULL, prover_instance = NULL, job_id = NULL, lease_until_ms = NULL, updated_ms = $now
                WHERE id = $id AND state = 1 AND prover_name = $n AND prover_instance = $i
                RETURNING {TaskColumns};
                """);
            Bind(command, "$inc", increment);
            Bind(command, "$failed", failed ? 1 : 0);
            Bind(command, "$max", maxAttempts);
            Bind(command, "$e", error);
            Bind(command, "$n", prover.Name);
            Bind(command, "$i", prover.StoredInstance);
            Bind(command, "$now", now);
            Bind(command, "$id", taskId);
            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadTask(reader) : null;
        }, cancellationToken);
    }

    public Task ParkAsync(long taskId, string reason, CancellationToken cancellationToken)
    {
        var now = NowMs;
        return _writer.WriteAsync((connection, transaction) =>
        {
            using var command = Command(connection, transaction, """
                UPDATE tasks SET state = 3, last_error = $e, prover_name = NULL, prover_instance = NULL, job_id = NULL,
                    lease_until_ms = NULL, updated_ms = $now
                WHERE id = $id AND state IN (0, 1);
                """);
            Bind(command, "$e", reason);
            Bind(command, "$now", now);
            Bind(command, "$id", taskId);
            return command.ExecuteNonQuery();
        }, cancellationToken);
    }

    public Task<IReadOnlyList<ProofTask>> ReproveRangeAsync(long taskId, CancellationToken cancellationToken)
    {
        var now = NowMs;
        return _writer.WriteAsync<IReadOnlyList<ProofTask>>((connection, transaction) =>
        {
            using var find = Command(connection, transaction, """
                SELECT final_batch, seq_init, from_batch, to_batch, input1, input2 FROM tasks WHERE id = $id AND state IN (0, 1, 3);
                """);
            Bind(find, "$id", taskId);
            ulong sequence, sequenceInit, from, to;
            long? input1, input2;
            using (var reader = find.ExecuteReader())
            {
                if (!reader.Read())
                {
                    return [];
                }

                (sequence, sequenceInit, from, to) = ((ulong)reader.GetInt64(0), (ulong)reader.GetInt64(1), (ulong)reader.GetInt64(2), (ulong)reader.GetInt64(3));
                input1 = reader.IsDBNull(4) ? null : reader.GetInt64(4);
                input2 = reader.IsDBNull(5) ? null : reader.GetInt64(5);
            }

            var suspects = new List<string>();
            using (var makers = Command(connection, transaction, "SELECT made_by FROM tasks WHERE id IN ($a, $b) AND made_by IS NOT NULL;"))
            {
                Bind(makers, "$a", input1 ?? -1);
                Bind(makers, "$b", input2 ?? -1);
                using var reader = makers.ExecuteReader();
                while (reader.Read())
                {
                    suspects.Add(reader.GetString(0));
                }
            }

            using var discard = Command(connection, transaction, """
                UPDATE tasks SET state = 4, last_error = COALESCE(last_error, 'inputs suspect'), prover_name = NULL,
                    prover_instance = NULL, job_id = NULL, lease_until_ms = NULL, updated_ms = $now
                WHERE final_batch = $s AND from_batch >= $f AND to_batch <= $t AND state IN (0, 1, 2, 3);
                """);
            Bind(discard, "$s", L(sequence));
            Bind(discard, "$f", L(from));
            Bind(discard, "$t", L(to));
            Bind(discard, "$now", now);
            discard.ExecuteNonQuery();

            var avoid = suspects.Distinct(StringComparer.Ordinal).ToArray();
            var created = new List<ProofTask>();
            for (var b = from + 1; b <= to; b++)
            {
                var task = InsertTask(connection, transaction, sequence, sequenceInit, TaskKind.Batch, b - 1, b, null, null, avoid, now);
                if (task is not null)
                {
                    created.Add(task);
                }
            }

            return created;
        }, cancellationToken);
    }

    public async Task<FinalProofRecord?> GetFinalProofAsync(ulong finalBatch, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, """
            SELECT init_batch, final_batch, proof, aggregator_addr, new_state_root, new_acc_input_hash, new_local_exit_root,
                   prover_name, created_ms
            FROM final_proofs WHERE final_batch = $f;
            """);
        Bind(command, "$f", L(finalBatch));
        using var r = command.ExecuteReader();
        if (!r.Read())
        {
            return null;
        }

        return ReadFinalProof(r);
    }

    public async Task<IReadOnlyList<ProofTask>> ListParkedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"SELECT {TaskColumns} FROM tasks WHERE state = 3 ORDER BY final_batch, id;");
        using var reader = command.ExecuteReader();
        var tasks = new List<ProofTask>();
        while (reader.Read())
        {
            tasks.Add(ReadTask(reader));
        }

        return tasks;
    }

    public Task<ProofTask?> RequeueAsync(long taskId, CancellationToken cancellationToken)
    {
        var now = NowMs;
        return _writer.WriteAsync((connection, transaction) =>
        {
            using var command = Command(connection, transaction, $"""
                UPDATE tasks SET state = 0, attempts = 0, failed_on = '', updated_ms = $now
                WHERE id = $id AND state = 3
                RETURNING {TaskColumns};
                """);
            Bind(command, "$id", taskId);
            Bind(command, "$now", now);
            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadTask(reader) : null;
        }, cancellationToken);
    }

    /// <summary>Counts per task state and kind, for status pages and tests.</summary>
    public async Task<IReadOnlyDictionary<(TaskKind Kind, TaskState State), int>> CountTasksAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, TaskCountsSql);
        using var reader = command.ExecuteReader();
        var counts = new Dictionary<(TaskKind, TaskState), int>();
        while (reader.Read())
        {
            counts[((TaskKind)reader.GetInt32(0), (TaskState)reader.GetInt32(1))] = reader.GetInt32(2);
        }

        return counts;
    }

    /// <summary>Bytes of the recursive proofs stored now (the proof texts of done batch and aggregate tasks); for benchmarks.</summary>
    internal async Task<long> StoredProofBytesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        return Scalar<long>(connection, null, "SELECT COALESCE(SUM(LENGTH(CAST(proof AS BLOB))), 0) FROM tasks WHERE proof IS NOT NULL;");
    }

    /// <summary>Number of stored final proofs.</summary>
    public async Task<int> CountFinalProofsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        return (int)Scalar<long>(connection, null, FinalProofCountSql);
    }

    public Task<int> DiscardSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken)
    {
        var now = NowMs;
        return _writer.WriteAsync((connection, transaction) =>
        {
            var count = RetireTasks(connection, transaction, finalBatch, "0, 1, 2, 3", reason, now);
            foreach (var sql in new[]
            {
                "DELETE FROM final_proofs WHERE final_batch = $f;",
                "DELETE FROM batches WHERE final_batch = $f;",
                "UPDATE sequences SET state = 2 WHERE final_batch = $f;",
            })
            {
                using var command = Command(connection, transaction, sql);
                Bind(command, "$f", L(finalBatch));
                command.ExecuteNonQuery();
            }

            return count;
        }, cancellationToken);
    }

    public Task<int> AbandonSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken)
    {
        var now = NowMs;
        return _writer.WriteAsync((connection, transaction) =>
        {
            var count = RetireTasks(connection, transaction, finalBatch, "0, 1, 3", reason, now);
            using var command = Command(connection, transaction, "UPDATE sequences SET state = 3 WHERE final_batch = $f AND state = 0;");
            Bind(command, "$f", L(finalBatch));
            command.ExecuteNonQuery();
            return count;
        }, cancellationToken);
    }

    private static int RetireTasks(SqliteConnection connection, SqliteTransaction transaction, ulong finalBatch, string states, string reason, long now)
    {
        using var command = Command(connection, transaction, $"""
            UPDATE tasks SET state = 4, last_error = $r, prover_name = NULL, prover_instance = NULL, job_id = NULL,
                lease_until_ms = NULL, updated_ms = $now
            WHERE final_batch = $f AND state IN ({states});
            """);
        Bind(command, "$r", reason);
        Bind(command, "$now", now);
        Bind(command, "$f", L(finalBatch));
        return command.ExecuteNonQuery();
    }

    /// <summary>A final proof row: init_batch, final_batch, proof, aggregator_addr, new_state_root, new_acc_input_hash,
    /// new_local_exit_root, prover_name, created_ms (the columns of final_proofs and committed_proofs, in that order).</summary>
    private static FinalProofRecord ReadFinalProof(SqliteDataReader r) => new()
    {
        InitBatch = (ulong)r.GetInt64(0),
        FinalBatch = (ulong)r.GetInt64(1),
        Proof = r.GetString(2),
        AggregatorAddress = r.GetString(3),
        NewStateRoot = (byte[])r.GetValue(4),
        NewAccInputHash = (byte[])r.GetValue(5),
        NewLocalExitRoot = (byte[])r.GetValue(6),
        ProverName = r.GetString(7),
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(8)),
    };
}
