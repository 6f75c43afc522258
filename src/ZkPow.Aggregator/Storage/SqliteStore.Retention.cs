using Microsoft.Data.Sqlite;
using ZkPow.Aggregator.Sender;

namespace ZkPow.Aggregator.Storage;

/// <summary>Retention (migration 6): what a verified sequence no longer needs is deleted, a bounded step at a time.</summary>
public sealed partial class SqliteStore
{
    /// <summary>Counts per task state and kind, answered from the index <c>tasks_by_state_kind</c> (a search per state, no
    /// table scan).</summary>
    internal const string TaskCountsSql = "SELECT kind, state, COUNT(*) FROM tasks WHERE state IN (0, 1, 2, 3, 4) GROUP BY state, kind;";

    /// <summary>The number of stored final proofs, answered from the index <c>final_proofs_by_created</c>.</summary>
    internal const string FinalProofCountSql = "SELECT COUNT(*) FROM final_proofs WHERE created_ms >= 0;";

    /// <summary>A submission that is not in one of these states is open: nothing of its sequence is deleted.</summary>
    private static readonly string ClosedSubmissionStates = string.Join(", ",
        (int)SubmissionState.Revealed, (int)SubmissionState.Lost, (int)SubmissionState.Slashed);

    /// <summary>
    /// One bounded retention step, in one transaction: deletes the task rows (with their recursive proofs) and batch
    /// inputs of at most <paramref name="maxItems"/> sequences that have at least <paramref name="retainVerified"/> verified
    /// sequences after them, and at most <paramref name="maxItems"/> final proofs and committed proofs of verified
    /// sequences stored more than <paramref name="retainFinalProofs"/> ago, and at most <paramref name="maxItems"/> of our
    /// finished transactions of verified sequences last changed that long ago (<see cref="PruneTxs"/>). A sequence is verified when a
    /// <c>verifyBatches</c> event covers its final batch; nothing is deleted of a sequence not verified, still being
    /// proved, or whose submission is open (any state but revealed, lost or slashed).
    /// </summary>
    public Task<RetentionResult> PruneAsync(int retainVerified, TimeSpan retainFinalProofs, int maxItems, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(retainVerified);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxItems);
        var finalsBefore = NowMs - (long)retainFinalProofs.TotalMilliseconds;
        return _writer.WriteAsync((connection, transaction) =>
        {
            long verified;
            using (var last = Command(connection, transaction, "SELECT MAX(final_batch) FROM sync_events WHERE kind = 2;"))
            {
                if (last.ExecuteScalar() is not long v)
                {
                    return RetentionResult.None;
                }

                verified = v;
            }

            var (sequences, tasks, batches) = PruneSequences(connection, transaction, verified, retainVerified, maxItems);
            var finals = PruneFinals(connection, transaction, "final_proofs", verified, finalsBefore, maxItems);
            var committed = PruneFinals(connection, transaction, "committed_proofs", verified, finalsBefore, maxItems);
            var txs = PruneTxs(connection, transaction, verified, finalsBefore, maxItems);
            var (eventSequences, events) = PruneEvents(connection, transaction, verified, retainVerified, maxItems);
            return new RetentionResult(sequences, tasks, batches, finals, committed, txs, eventSequences, events);
        }, cancellationToken);
    }

    private static (int Sequences, int Tasks, int Batches) PruneSequences(SqliteConnection connection, SqliteTransaction transaction, long verified,
        int retainVerified, int maxItems)
    {
        long cutoff;
        using (var find = Command(connection, transaction,
            "SELECT final_batch FROM sequences WHERE final_batch <= $v ORDER BY final_batch DESC LIMIT 1 OFFSET $n;"))
        {
            Bind(find, "$v", verified);
            Bind(find, "$n", retainVerified);
            if (find.ExecuteScalar() is not long c)
            {
                return (0, 0, 0);
            }

            cutoff = c;
        }

        var candidates = new List<long>();
        using (var select = Command(connection, transaction, $"""
            SELECT s.final_batch FROM sequences s
            WHERE s.pruned = 0 AND s.final_batch <= $c AND s.state IN (1, 2, 3)
              AND NOT EXISTS (SELECT 1 FROM submissions u WHERE u.final_batch = s.final_batch AND u.state NOT IN ({ClosedSubmissionStates}))
            ORDER BY s.final_batch LIMIT $k;
            """))
        {
            Bind(select, "$c", cutoff);
            Bind(select, "$k", maxItems);
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                candidates.Add(reader.GetInt64(0));
            }
        }

        var (tasks, batches) = (0, 0);
        foreach (var finalBatch in candidates)
        {
            tasks += ExecuteFor(connection, transaction, "DELETE FROM tasks WHERE final_batch = $f;", finalBatch);
            batches += ExecuteFor(connection, transaction, "DELETE FROM batches WHERE final_batch = $f;", finalBatch);
            ExecuteFor(connection, transaction, "UPDATE sequences SET pruned = 1 WHERE final_batch = $f;", finalBatch);
        }

        return (candidates.Count, tasks, batches);
    }

    private static int PruneFinals(SqliteConnection connection, SqliteTransaction transaction, string table, long verified, long before, int maxItems)
    {
        using var delete = Command(connection, transaction, $"""
            DELETE FROM {table} WHERE rowid IN (
                SELECT p.rowid FROM {table} p
                WHERE p.created_ms < $before AND p.final_batch <= $v
                  AND NOT EXISTS (SELECT 1 FROM submissions u WHERE u.final_batch = p.final_batch AND u.state NOT IN ({ClosedSubmissionStates}))
                ORDER BY p.created_ms LIMIT $k);
            """);
        Bind(delete, "$before", before);
        Bind(delete, "$v", verified);
        Bind(delete, "$k", maxItems);
        return delete.ExecuteNonQuery();
    }

    /// <summary>Our finished (confirmed or failed) hash and reveal transactions of verified sequences whose submission is
    /// closed, last changed before <paramref name="before"/>, with their signed versions (the final batch is the middle
    /// part of the key, e.g. <c>verifyBatches/12/1</c>). Open transactions, and those of open submissions (a parked one may
    /// be requeued: its keys must still find its transactions), are never deleted.</summary>
    private static int PruneTxs(SqliteConnection connection, SqliteTransaction transaction, long verified, long before, int maxItems)
    {
        var ids = new List<long>();
        using (var select = Command(connection, transaction, $"""
            SELECT t.id FROM txs t
            WHERE t.state IN (4, 5) AND t.updated_ms < $before
              AND (t.idem_key LIKE 'submitProofHash/%' OR t.idem_key LIKE 'verifyBatches/%')
              AND CAST(substr(t.idem_key, instr(t.idem_key, '/') + 1) AS INTEGER) <= $v
              AND NOT EXISTS (SELECT 1 FROM submissions u
                              WHERE u.final_batch = CAST(substr(t.idem_key, instr(t.idem_key, '/') + 1) AS INTEGER)
                                AND u.state NOT IN ({ClosedSubmissionStates}))
            ORDER BY t.updated_ms LIMIT $k;
            """))
        {
            Bind(select, "$before", before);
            Bind(select, "$v", verified);
            Bind(select, "$k", maxItems);
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                ids.Add(reader.GetInt64(0));
            }
        }

        foreach (var id in ids)
        {
            ExecuteFor(connection, transaction, "DELETE FROM tx_versions WHERE tx_id = $f;", id);
            ExecuteFor(connection, transaction, "DELETE FROM txs WHERE id = $f;", id);
        }

        return ids.Count;
    }

    /// <summary>
    /// The rollup events of other miners (their hashes, reveals, rewards and slashes) of at most <paramref name="maxItems"/>
    /// synced sequences that have at least <paramref name="retainVerified"/> synced sequences after them up to the last
    /// verified one. Kept: the sequence's own event, the first reveal (who verified it, and the last verified batch), every
    /// event of our senders (the earnings) and the epoch changes. With many miners these are most of the rows a long run
    /// adds; the dashboard's figures only read the kept ones (and the committers of recent sequences).
    /// </summary>
    private static (int Sequences, int Events) PruneEvents(SqliteConnection connection, SqliteTransaction transaction, long verified, int retainVerified,
        int maxItems)
    {
        long cutoff;
        using (var find = Command(connection, transaction,
            "SELECT final_batch FROM sync_sequences WHERE final_batch <= $v ORDER BY final_batch DESC LIMIT 1 OFFSET $n;"))
        {
            Bind(find, "$v", verified);
            Bind(find, "$n", retainVerified);
            if (find.ExecuteScalar() is not long c)
            {
                return (0, 0);
            }

            cutoff = c;
        }

        var candidates = new List<long>();
        using (var select = Command(connection, transaction,
            "SELECT final_batch FROM sync_sequences WHERE events_pruned = 0 AND final_batch <= $c ORDER BY final_batch LIMIT $k;"))
        {
            Bind(select, "$c", cutoff);
            Bind(select, "$k", maxItems);
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                candidates.Add(reader.GetInt64(0));
            }
        }

        var events = 0;
        foreach (var finalBatch in candidates)
        {
            events += ExecuteFor(connection, transaction, OtherMinersEventsSql, finalBatch);
            ExecuteFor(connection, transaction, "UPDATE sync_sequences SET events_pruned = 1 WHERE final_batch = $f;", finalBatch);
        }

        return (candidates.Count, events);
    }

    /// <summary>Deletes the events of sequence <c>$f</c> that <see cref="PruneEvents"/> does not keep (SQLite and PostgreSQL alike).</summary>
    internal const string OtherMinersEventsSql = """
        DELETE FROM sync_events
        WHERE final_batch = $f AND kind IN (1, 2, 3, 4)
          AND account IS NOT NULL AND lower(account) NOT IN (SELECT lower(sender) FROM tx_senders)
          AND NOT (kind = 2 AND NOT EXISTS (
              SELECT 1 FROM sync_events f
              WHERE f.final_batch = sync_events.final_batch AND f.kind = 2
                AND (f.block_num < sync_events.block_num OR (f.block_num = sync_events.block_num AND f.log_index < sync_events.log_index))));
        """;

    private static int ExecuteFor(SqliteConnection connection, SqliteTransaction transaction, string sql, long key)
    {
        using var command = Command(connection, transaction, sql);
        Bind(command, "$f", key);
        return command.ExecuteNonQuery();
    }

    /// <summary>The query plan SQLite chooses for <paramref name="sql"/> (EXPLAIN QUERY PLAN details, one per line); for tests.</summary>
    internal async Task<IReadOnlyList<string>> ExplainAsync(string sql, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "EXPLAIN QUERY PLAN " + sql);
        using var reader = command.ExecuteReader();
        var plan = new List<string>();
        while (reader.Read())
        {
            plan.Add(reader.GetString(3));
        }

        return plan;
    }
}
