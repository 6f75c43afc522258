using Npgsql;
using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Storage;

public sealed partial class PostgresStore
{
    private const string TaskColumns =
        "id, final_batch, seq_init, kind, from_batch, to_batch, input1, input2, state, attempts, prover_name, prover_instance, " +
        "job_id, lease_until_ms, last_error, failed_on, avoid_provers";

    /// <summary>The last write made for each task that has one in flight (see <see cref="InTaskOrder"/>).</summary>
    private readonly Dictionary<long, Task> _taskWrites = [];
    private readonly Lock _taskWritesGate = new();

    public Task<IReadOnlyList<ProofTask>> AddSequenceAsync(SequenceInput sequence, CancellationToken cancellationToken)
    {
        sequence.Validate();
        var now = NowMs;
        return WriteAsync<IReadOnlyList<ProofTask>>(async (connection, transaction) =>
        {
            using (var insert = Command(connection, transaction,
                """
                INSERT INTO sequences (final_batch, init_batch, state, created_ms) VALUES (@f, @i, 0, @t)
                ON CONFLICT (final_batch) DO UPDATE SET init_batch = excluded.init_batch, state = 0, created_ms = excluded.created_ms, pruned = 0
                WHERE sequences.state = 2;
                """))
            {
                Bind(insert, "@f", L(sequence.FinalBatch));
                Bind(insert, "@i", L(sequence.InitBatch));
                Bind(insert, "@t", now);
                if (await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    return [];
                }
            }

            using var batch = Command(connection, transaction,
                "INSERT INTO batches (batch_num, final_batch, prover_input) VALUES (@b, @f, @p);");
            var b = batch.Parameters.Add("b", NpgsqlTypes.NpgsqlDbType.Bigint);
            batch.Parameters.AddWithValue("f", L(sequence.FinalBatch));
            var p = batch.Parameters.Add("p", NpgsqlTypes.NpgsqlDbType.Bytea);
            foreach (var input in sequence.Batches)
            {
                b.Value = L(input.Number);
                p.Value = input.ProverInput;
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var created = new List<ProofTask>(sequence.Batches.Count);
            foreach (var input in sequence.Batches)
            {
                created.Add((await InsertTaskAsync(connection, transaction, sequence.FinalBatch, sequence.InitBatch, TaskKind.Batch, input.Number - 1,
                    input.Number, null, null, [], now, cancellationToken).ConfigureAwait(false))!);
            }

            return created;
        }, cancellationToken);
    }

    /// <summary>Locks the sequence's row until the transaction ends: the completions and replacements of its tasks take
    /// turns, whichever process makes them.</summary>
    private static async Task LockSequenceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ulong finalBatch,
        CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction, "SELECT final_batch FROM sequences WHERE final_batch = @f FOR UPDATE;");
        Bind(command, "@f", L(finalBatch));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary><see cref="LockSequenceAsync"/> for the sequence of task <paramref name="taskId"/>.</summary>
    private static async Task LockSequenceOfTaskAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long taskId,
        CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction,
            "SELECT final_batch FROM sequences WHERE final_batch = (SELECT final_batch FROM tasks WHERE id = @id) FOR UPDATE;");
        Bind(command, "@id", taskId);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void BindLong(NpgsqlCommand command, string name, long? value) =>
        command.Parameters.Add(new NpgsqlParameter<long?>(name, NpgsqlTypes.NpgsqlDbType.Bigint) { TypedValue = value });

    private static string[] AvoidList(string stored) =>
        [.. stored.Split(',', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal)];

    private static async Task<ProofTask?> InsertTaskAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ulong sequence, ulong sequenceInit,
        TaskKind kind, ulong from, ulong to, long? input1, long? input2, IReadOnlyList<string> avoid, long now, CancellationToken cancellationToken)
    {
        using var insert = Command(connection, transaction, $"""
            INSERT INTO tasks (final_batch, seq_init, kind, from_batch, to_batch, input1, input2, state, attempts, avoid_provers, created_ms, updated_ms)
            VALUES (@s, @si, @k, @f, @t, @i1, @i2, 0, 0, @a, @now, @now)
            ON CONFLICT DO NOTHING
            RETURNING {TaskColumns};
            """);
        Bind(insert, "@s", L(sequence));
        Bind(insert, "@si", L(sequenceInit));
        Bind(insert, "@k", (int)kind);
        Bind(insert, "@f", L(from));
        Bind(insert, "@t", L(to));
        BindLong(insert, "@i1", input1);
        BindLong(insert, "@i2", input2);
        Bind(insert, "@a", string.Join(',', avoid));
        Bind(insert, "@now", now);
        await using var reader = await insert.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadTask(reader) : null;
    }

    private static ProofTask ReadTask(NpgsqlDataReader r)
    {
        string? Str(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        IReadOnlyList<string> List(int i) => r.IsDBNull(i) ? [] : r.GetString(i).Split(',', StringSplitOptions.RemoveEmptyEntries);
        var name = Str(10);
        var instance = Str(11);
        return new ProofTask
        {
            Id = I64(r, 0),
            Sequence = (ulong)I64(r, 1),
            SequenceInit = (ulong)I64(r, 2),
            Kind = (TaskKind)I32(r, 3),
            FromBatch = (ulong)I64(r, 4),
            ToBatch = (ulong)I64(r, 5),
            Input1 = r.IsDBNull(6) ? null : I64(r, 6),
            Input2 = r.IsDBNull(7) ? null : I64(r, 7),
            State = (TaskState)I32(r, 8),
            Attempts = I32(r, 9),
            Prover = name is null || instance is null ? null : ProverRef.FromStored(name, instance),
            JobId = Str(12),
            LeaseUntil = r.IsDBNull(13) ? null : DateTimeOffset.FromUnixTimeMilliseconds(I64(r, 13)),
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
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var tasks = new List<ProofTask>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
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
            WHERE state = 1 AND lease_until_ms < {DbNowMs} + @nowOffset AND final_batch IN (SELECT final_batch FROM sequences WHERE state = 0)
            ORDER BY lease_until_ms LIMIT @limit;
            """);
        Bind(command, "@nowOffset", OffsetMs(now));
        Bind(command, "@limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var tasks = new List<ProofTask>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            tasks.Add(ReadTask(reader));
        }

        return tasks;
    }

    /// <summary>Replicas share this database: a request goes out only once its claim has won, and tasks made ready by
    /// any replica are announced on <see cref="TasksReadyChannel"/>.</summary>
    public bool Shared => true;

    /// <summary>The channel on which the database announces every task that becomes ready (payload: its id) or stops
    /// being ready (payload: <c>-</c> and its id) (migration 8's trigger).</summary>
    public const string TasksReadyChannel = "zkpow_tasks_ready";

    public async Task<IReadOnlyList<ProofTask>> LoadReadyTasksAsync(IReadOnlyCollection<long>? ids, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"""
            SELECT {TaskColumns} FROM tasks
            WHERE state = 0 {(ids is null ? "" : "AND id = ANY(@ids)")} AND final_batch IN (SELECT final_batch FROM sequences WHERE state = 0)
            ORDER BY final_batch, id;
            """);
        if (ids is not null)
        {
            command.Parameters.AddWithValue("@ids", ids.ToArray());
        }

        return await ReadTasksAsync(command, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ProofTask>> ListAssignedToAsync(string proverName, string principal, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"""
            SELECT {TaskColumns} FROM tasks
            WHERE state = 1 AND prover_name = @n AND starts_with(prover_instance, @p)
                AND final_batch IN (SELECT final_batch FROM sequences WHERE state = 0)
            ORDER BY id;
            """);
        Bind(command, "@n", proverName);
        Bind(command, "@p", principal + "|");
        return await ReadTasksAsync(command, cancellationToken).ConfigureAwait(false);
    }

    public Task WatchReadyTasksAsync(Action<long?> onReady, Action<long> onTaken, Microsoft.Extensions.Logging.ILogger logger,
        CancellationToken cancellationToken) =>
        new PostgresChannelListener(this, TasksReadyChannel, payload =>
        {
            // "<id>": the task became ready; "-<id>": it was taken (claimed, parked, discarded); null: a sweep.
            const System.Globalization.NumberStyles digits = System.Globalization.NumberStyles.None;
            var culture = System.Globalization.CultureInfo.InvariantCulture;
            if (payload is ['-', .. var taken] && long.TryParse(taken, digits, culture, out var takenId))
            {
                onTaken(takenId);
            }
            else
            {
                onReady(long.TryParse(payload, digits, culture, out var id) ? id : null);
            }
        }, logger, _time).RunAsync(cancellationToken);

    private static async Task<IReadOnlyList<ProofTask>> ReadTasksAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var tasks = new List<ProofTask>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            tasks.Add(ReadTask(reader));
        }

        return tasks;
    }

    public async Task<byte[]> GetBatchInputAsync(ulong batch, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "SELECT prover_input FROM batches WHERE batch_num = @b;");
        Bind(command, "@b", L(batch));
        return (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)) as byte[] ?? throw new KeyNotFoundException($"no prover input stored for batch {batch}");
    }

    public async Task<string?> GetProofAsync(long taskId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "SELECT proof FROM tasks WHERE id = @id AND state = 2;");
        Bind(command, "@id", taskId);
        return (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)) as string;
    }

    /// <summary>
    /// Runs <paramref name="write"/> once the writes for the same task made before it have ended. The generator makes a
    /// task's writes without waiting for them (a batch job's request goes out while its claim commits, and its job id and
    /// proof are stored in the background), relying on them being applied in the order they were made, as SQLite's single
    /// writer does; here each write is a transaction of its own on a pooled connection, so without this a job id could be
    /// applied ahead of its claim and be lost. The order is taken when the method is called; writes of different tasks do
    /// not wait for each other.
    /// </summary>
    private Task<T> InTaskOrder<T>(long taskId, Func<Task<T>> write)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task previous;
        lock (_taskWritesGate)
        {
            previous = _taskWrites.GetValueOrDefault(taskId) ?? Task.CompletedTask;
            _taskWrites[taskId] = done.Task;
        }

        return RunAsync();

        async Task<T> RunAsync()
        {
            try
            {
                await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                return await write().ConfigureAwait(false);
            }
            finally
            {
                lock (_taskWritesGate)
                {
                    if (_taskWrites.TryGetValue(taskId, out var last) && last == done.Task)
                    {
                        _taskWrites.Remove(taskId);
                    }
                }

                done.SetResult();
            }
        }
    }

    /// <summary>
    /// The claim of one task, in the database's clock: <c>@nowOffset</c> and <c>@leaseOffset</c> are the caller's now and
    /// lease end as offsets from the process's clock, added to the database's clock. The row is locked with
    /// <c>FOR UPDATE SKIP LOCKED</c>: when another replica is claiming the same task at that moment, this claim loses at
    /// once instead of waiting for the other transaction, and the worker goes on to its next task. The claimant is written
    /// as the task's owner.
    /// </summary>
    private const string ClaimSql = $"""
        UPDATE tasks SET state = 1, prover_name = @n, prover_instance = @i, job_id = NULL, lease_until_ms = {DbNowMs} + @leaseOffset,
            owner = @owner, updated_ms = @now
        WHERE id = (
            SELECT id FROM tasks
            WHERE id = @id AND (state = 0 OR (state = 1 AND lease_until_ms < {DbNowMs} + @nowOffset))
            FOR UPDATE SKIP LOCKED);
        """;

    public Task<bool> TryClaimAsync(long taskId, ProverRef prover, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        var (nowOffset, leaseOffset, processNow) = (OffsetMs(now), OffsetMs(leaseUntil), NowMs);
        return InTaskOrder(taskId, () => WriteAsync(async (connection, transaction) =>
        {
            using var command = Command(connection, transaction, ClaimSql);
            Bind(command, "@n", prover.Name);
            Bind(command, "@i", prover.StoredInstance);
            Bind(command, "@leaseOffset", leaseOffset);
            Bind(command, "@nowOffset", nowOffset);
            Bind(command, "@now", processNow);
            Bind(command, "@id", taskId);
            Bind(command, "@owner", _owner);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }, cancellationToken));
    }

    public Task<bool> RecordJobAsync(long taskId, ProverRef prover, string jobId, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        var now = NowMs;
        var leaseOffset = OffsetMs(leaseUntil);
        return InTaskOrder(taskId, () => WriteAsync(async (connection, transaction) =>
        {
            using var command = Command(connection, transaction, $"""
                UPDATE tasks SET job_id = @j, lease_until_ms = {DbNowMs} + @leaseOffset, owner = @owner, updated_ms = @now
                WHERE id = @id AND state = 1 AND prover_name = @n AND prover_instance = @i;
                """);
            Bind(command, "@owner", _owner);
            Bind(command, "@j", jobId);
            Bind(command, "@leaseOffset", leaseOffset);
            Bind(command, "@now", now);
            Bind(command, "@id", taskId);
            Bind(command, "@n", prover.Name);
            Bind(command, "@i", prover.StoredInstance);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }, cancellationToken));
    }

    private static async Task<bool> MarkDoneAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long taskId, ProverRef prover, string? proof,
        long now, CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction, """
            UPDATE tasks SET state = 2, proof = @p, made_by = @n, lease_until_ms = NULL, updated_ms = @now
            WHERE id = @id AND state = 1 AND prover_name = @n AND prover_instance = @i;
            """);
        Bind(command, "@p", proof);
        Bind(command, "@n", prover.Name);
        Bind(command, "@i", prover.StoredInstance);
        Bind(command, "@now", now);
        Bind(command, "@id", taskId);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public Task<CompletionResult> CompleteAsync(long taskId, ProverRef prover, string proof, ParentSpec parent, CancellationToken cancellationToken)
    {
        var now = NowMs;
        return InTaskOrder(taskId, () => WriteAsync(async (connection, transaction) =>
        {
            // The sequence's row lock serialises the completions of its tasks: of two siblings completed at once, the
            // second sees the first done (READ COMMITTED reads what committed before each statement) and creates the parent.
            await LockSequenceOfTaskAsync(connection, transaction, taskId, cancellationToken).ConfigureAwait(false);
            if (!await MarkDoneAsync(connection, transaction, taskId, prover, proof, now, cancellationToken).ConfigureAwait(false))
            {
                return new CompletionResult(false, null);
            }

            ulong sequence, sequenceInit;
            string avoid;
            using (var seqCommand = Command(connection, transaction, "SELECT final_batch, seq_init, avoid_provers FROM tasks WHERE id = @id;"))
            {
                Bind(seqCommand, "@id", taskId);
                await using var reader = await seqCommand.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                (sequence, sequenceInit) = ((ulong)I64(reader, 0), (ulong)I64(reader, 1));
                avoid = reader.IsDBNull(2) ? string.Empty : reader.GetString(2);
            }

            // A parent avoids what its inputs avoided (the makers of a rejected final proof, or of suspect inputs).
            if (!parent.HasSibling)
            {
                return new CompletionResult(true,
                    await InsertTaskAsync(connection, transaction, sequence, sequenceInit, parent.Kind, parent.FromBatch, parent.ToBatch, taskId, null,
                        AvoidList(avoid), now, cancellationToken).ConfigureAwait(false));
            }

            using var sibling = Command(connection, transaction, """
                SELECT id, avoid_provers FROM tasks WHERE final_batch = @s AND kind IN (0, 1) AND from_batch = @f AND to_batch = @t AND state = 2;
                """);
            Bind(sibling, "@s", L(sequence));
            Bind(sibling, "@f", L(parent.SiblingFrom));
            Bind(sibling, "@t", L(parent.SiblingTo));
            long siblingId;
            await using (var reader = await sibling.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return new CompletionResult(true, null);
                }

                siblingId = I64(reader, 0);
                avoid = reader.IsDBNull(1) ? avoid : $"{avoid},{reader.GetString(1)}";
            }

            var (left, right) = parent.IsLeftChild ? (taskId, siblingId) : (siblingId, taskId);
            return new CompletionResult(true,
                await InsertTaskAsync(connection, transaction, sequence, sequenceInit, parent.Kind, parent.FromBatch, parent.ToBatch, left, right,
                    AvoidList(avoid), now, cancellationToken).ConfigureAwait(false));
        }, cancellationToken));
    }

    public Task<bool> CompleteFinalAsync(long taskId, ProverRef prover, FinalProofRecord proof, CancellationToken cancellationToken)
    {
        var now = NowMs;
        return InTaskOrder(taskId, () => WriteAsync(async (connection, transaction) =>
        {
            await LockSequenceOfTaskAsync(connection, transaction, taskId, cancellationToken).ConfigureAwait(false);
            if (!await MarkDoneAsync(connection, transaction, taskId, prover, null, now, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }

            using var insert = Command(connection, transaction, """
                INSERT INTO final_proofs (final_batch, init_batch, proof, aggregator_addr, new_state_root, new_acc_input_hash,
                                          new_local_exit_root, prover_name, created_ms)
                VALUES (@f, @i, @p, @a, @sr, @ah, @ler, @n, @now)
                ON CONFLICT (final_batch) DO UPDATE SET init_batch = excluded.init_batch, proof = excluded.proof,
                    aggregator_addr = excluded.aggregator_addr, new_state_root = excluded.new_state_root,
                    new_acc_input_hash = excluded.new_acc_input_hash, new_local_exit_root = excluded.new_local_exit_root,
                    prover_name = excluded.prover_name, created_ms = excluded.created_ms;
                """);
            Bind(insert, "@f", L(proof.FinalBatch));
            Bind(insert, "@i", L(proof.InitBatch));
            Bind(insert, "@p", proof.Proof);
            Bind(insert, "@a", proof.AggregatorAddress);
            Bind(insert, "@sr", proof.NewStateRoot);
            Bind(insert, "@ah", proof.NewAccInputHash);
            Bind(insert, "@ler", proof.NewLocalExitRoot);
            Bind(insert, "@n", proof.ProverName);
            Bind(insert, "@now", now);
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            using var sequence = Command(connection, transaction, "UPDATE sequences SET state = 1 WHERE final_batch = @f AND state = 0;");
            Bind(sequence, "@f", L(proof.FinalBatch));
            await sequence.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken));
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
        return InTaskOrder(taskId, () => WriteAsync(async (connection, transaction) =>
        {
            using var command = Command(connection, transaction, $"""
                UPDATE tasks SET
                    state = CASE WHEN attempts + @inc >= @max THEN 3 ELSE 0 END,
                    attempts = attempts + @inc,
                    last_error = @e,
                    failed_on = CASE WHEN @failed = 1 THEN failed_on || @n || ',' ELSE failed_on END,
                    prover_name = NULL, prover_instance = NULL, job_id = NULL, lease_until_ms = NULL, owner = NULL, updated_ms = @now
                WHERE id = @id AND state = 1 AND prover_name = @n AND prover_instance = @i
                    AND (@restarted OR owner IS NULL OR owner = @owner OR lease_until_ms < {DbNowMs})
                RETURNING {TaskColumns};
                """);
            // A task another replica owns under a live lease (it adopted the job when the prover dialled it) is not this
            // process's to give back: only its owner, or anyone once the lease has expired, or once the prover instance
            // that ran it is known to have restarted.
            Bind(command, "@owner", _owner);
            Bind(command, "@restarted", reason == ReleaseReason.Restarted);
            Bind(command, "@inc", increment);
            Bind(command, "@failed", failed ? 1 : 0);
            Bind(command, "@max", maxAttempts);
            Bind(command, "@e", error);
            Bind(command, "@n", prover.Name);
            Bind(command, "@i", prover.StoredInstance);
            Bind(command, "@now", now);
            Bind(command, "@id", taskId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadTask(reader) : null;
        }, cancellationToken));
    }

    public Task ParkAsync(long taskId, string reason, CancellationToken cancellationToken)
    {
        var now = NowMs;
        return InTaskOrder(taskId, () => WriteAsync(async (connection, transaction) =>
        {
            using var command = Command(connection, transaction, """
                UPDATE tasks SET state = 3, last_error = @e, prover_name = NULL, prover_instance = NULL, job_id = NULL,
                    lease_until_ms = NULL, updated_ms = @now
                WHERE id = @id AND state IN (0, 1);
                """);
            Bind(command, "@e", reason);
            Bind(command, "@now", now);
            Bind(command, "@id", taskId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken));
    }

    public Task<IReadOnlyList<ProofTask>> ReproveRangeAsync(long taskId, CancellationToken cancellationToken)
    {
        var now = NowMs;
        return WriteAsync<IReadOnlyList<ProofTask>>(async (connection, transaction) =>
        {
            await LockSequenceOfTaskAsync(connection, transaction, taskId, cancellationToken).ConfigureAwait(false);
            using var find = Command(connection, transaction, """
                SELECT final_batch, seq_init, from_batch, to_batch, input1, input2 FROM tasks WHERE id = @id AND state IN (0, 1, 3);
                """);
            Bind(find, "@id", taskId);
            ulong sequence, sequenceInit, from, to;
            long? input1, input2;
            await using (var reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return [];
                }

                (sequence, sequenceInit, from, to) = ((ulong)I64(reader, 0), (ulong)I64(reader, 1), (ulong)I64(reader, 2), (ulong)I64(reader, 3));
                input1 = reader.IsDBNull(4) ? null : I64(reader, 4);
                input2 = reader.IsDBNull(5) ? null : I64(reader, 5);
            }

            var suspects = new List<string>();
            using (var makers = Command(connection, transaction, "SELECT made_by FROM tasks WHERE id IN (@a, @b) AND made_by IS NOT NULL;"))
            {
                Bind(makers, "@a", input1 ?? -1);
                Bind(makers, "@b", input2 ?? -1);
                await using var reader = await makers.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    suspects.Add(reader.GetString(0));
                }
            }

            using var discard = Command(connection, transaction, """
                UPDATE tasks SET state = 4, last_error = COALESCE(last_error, 'inputs suspect'), prover_name = NULL,
                    prover_instance = NULL, job_id = NULL, lease_until_ms = NULL, updated_ms = @now
                WHERE final_batch = @s AND from_batch >= @f AND to_batch <= @t AND state IN (0, 1, 2, 3);
                """);
            Bind(discard, "@s", L(sequence));
            Bind(discard, "@f", L(from));
            Bind(discard, "@t", L(to));
            Bind(discard, "@now", now);
            await discard.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

            var avoid = suspects.Distinct(StringComparer.Ordinal).ToArray();
            var created = new List<ProofTask>();
            for (var b = from + 1; b <= to; b++)
            {
                var task = await InsertTaskAsync(connection, transaction, sequence, sequenceInit, TaskKind.Batch, b - 1, b, null, null, avoid, now,
                    cancellationToken).ConfigureAwait(false);
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
            FROM final_proofs WHERE final_batch = @f;
            """);
        Bind(command, "@f", L(finalBatch));
        await using var r = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return ReadFinalProof(r);
    }

    public async Task<IReadOnlyList<ProofTask>> ListParkedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"SELECT {TaskColumns} FROM tasks WHERE state = 3 ORDER BY final_batch, id;");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var tasks = new List<ProofTask>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            tasks.Add(ReadTask(reader));
        }

        return tasks;
    }

    public Task<ProofTask?> RequeueAsync(long taskId, CancellationToken cancellationToken)
    {
        var now = NowMs;
        return WriteAsync(async (connection, transaction) =>
        {
            using var command = Command(connection, transaction, $"""
                UPDATE tasks SET state = 0, attempts = 0, failed_on = '', updated_ms = @now
                WHERE id = @id AND state = 3
                RETURNING {TaskColumns};
                """);
            Bind(command, "@id", taskId);
            Bind(command, "@now", now);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadTask(reader) : null;
        }, cancellationToken);
    }

    /// <summary>Counts per task state and kind, for status pages and tests.</summary>
    public async Task<IReadOnlyDictionary<(TaskKind Kind, TaskState State), int>> CountTasksAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, TaskCountsSql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var counts = new Dictionary<(TaskKind, TaskState), int>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            counts[((TaskKind)I32(reader, 0), (TaskState)I32(reader, 1))] = I32(reader, 2);
        }

        return counts;
    }

    /// <summary>Bytes of the recursive proofs stored now (the proof texts of done batch and aggregate tasks); for benchmarks.</summary>
    internal async Task<long> StoredProofBytesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        return await ScalarAsync<long>(connection, null, "SELECT COALESCE(SUM(octet_length(proof)), 0)::bigint FROM tasks WHERE proof IS NOT NULL;",
            cancellationToken);
    }

    /// <summary>Number of stored final proofs.</summary>
    public async Task<int> CountFinalProofsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        return (int)await ScalarAsync<long>(connection, null, FinalProofCountSql, cancellationToken);
    }

    public Task<int> DiscardSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken)
    {
        var now = NowMs;
        return WriteAsync(async (connection, transaction) =>
        {
            await LockSequenceAsync(connection, transaction, finalBatch, cancellationToken).ConfigureAwait(false);
            var count = await RetireTasksAsync(connection, transaction, finalBatch, "0, 1, 2, 3", reason, now, cancellationToken).ConfigureAwait(false);
            foreach (var sql in new[]
            {
                "DELETE FROM final_proofs WHERE final_batch = @f;",
                "DELETE FROM batches WHERE final_batch = @f;",
                "UPDATE sequences SET state = 2 WHERE final_batch = @f;",
            })
            {
                using var command = Command(connection, transaction, sql);
                Bind(command, "@f", L(finalBatch));
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return count;
        }, cancellationToken);
    }

    public Task<int> AbandonSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken)
    {
        var now = NowMs;
        return WriteAsync(async (connection, transaction) =>
        {
            await LockSequenceAsync(connection, transaction, finalBatch, cancellationToken).ConfigureAwait(false);
            var count = await RetireTasksAsync(connection, transaction, finalBatch, "0, 1, 3", reason, now, cancellationToken).ConfigureAwait(false);
            using var command = Command(connection, transaction, "UPDATE sequences SET state = 3 WHERE final_batch = @f AND state = 0;");
            Bind(command, "@f", L(finalBatch));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return count;
        }, cancellationToken);
    }

    private static async Task<int> RetireTasksAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ulong finalBatch, string states,
        string reason, long now, CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction, $"""
            UPDATE tasks SET state = 4, last_error = @r, prover_name = NULL, prover_instance = NULL, job_id = NULL,
                lease_until_ms = NULL, updated_ms = @now
            WHERE final_batch = @f AND state IN ({states});
            """);
        Bind(command, "@r", reason);
        Bind(command, "@now", now);
        Bind(command, "@f", L(finalBatch));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A final proof row: init_batch, final_batch, proof, aggregator_addr, new_state_root, new_acc_input_hash,
    /// new_local_exit_root, prover_name, created_ms (the columns of final_proofs and committed_proofs, in that order).</summary>
    private static FinalProofRecord ReadFinalProof(NpgsqlDataReader r) => new()
    {
        InitBatch = (ulong)I64(r, 0),
        FinalBatch = (ulong)I64(r, 1),
        Proof = r.GetString(2),
        AggregatorAddress = r.GetString(3),
        NewStateRoot = (byte[])r.GetValue(4),
        NewAccInputHash = (byte[])r.GetValue(5),
        NewLocalExitRoot = (byte[])r.GetValue(6),
        ProverName = r.GetString(7),
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(I64(r, 8)),
    };
}
