using Npgsql;
using ZkPow.Aggregator.Sender;

namespace ZkPow.Aggregator.Storage;

/// <summary>Retention (migration 6): what a verified sequence no longer needs is deleted, a bounded step at a time.</summary>
public sealed partial class PostgresStore
{
    /// <summary>Counts per task state and kind, answered from the index <c>tasks_by_state_kind</c> (a search per state, no
    /// table scan).</summary>
    internal const string TaskCountsSql = SqliteStore.TaskCountsSql;

    /// <summary>The number of stored final proofs, answered from the index <c>final_proofs_by_created</c>.</summary>
    internal const string FinalProofCountSql = SqliteStore.FinalProofCountSql;

    /// <summary>A submission that is not in one of these states is open: nothing of its sequence is deleted.</summary>
    private static readonly string ClosedSubmissionStates = string.Join(", ",
        (int)SubmissionState.Revealed, (int)SubmissionState.Lost, (int)SubmissionState.Slashed);

    /// <summary>
    /// One bounded retention step, in one transaction: deletes the task rows (with their recursive proofs) and batch
    /// inputs of at most <paramref name="maxItems"/> sequences that have at least <paramref name="retainVerified"/> verified
    /// sequences after them, and at most <paramref name="maxItems"/> final proofs and committed proofs of verified
    /// sequences stored more than <paramref name="retainFinalProofs"/> ago, and at most <paramref name="maxItems"/> of our
    /// finished transactions of verified sequences last changed that long ago. A sequence is verified when a
    /// <c>verifyBatches</c> event covers its final batch; nothing is deleted of a sequence not verified, still being
    /// proved, or whose submission is open (any state but revealed, lost or slashed).
    /// </summary>
    public Task<RetentionResult> PruneAsync(int retainVerified, TimeSpan retainFinalProofs, int maxItems, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(retainVerified);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxItems);
        var finalsBefore = NowMs - (long)retainFinalProofs.TotalMilliseconds;
        return WriteAsync(async (connection, transaction) =>
        {
            long verified;
            using (var last = Command(connection, transaction, "SELECT MAX(final_batch) FROM sync_events WHERE kind = 2;"))
            {
                if (await last.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not long v)
                {
                    return RetentionResult.None;
                }

                verified = v;
            }

            var (sequences, tasks, batches) = await PruneSequencesAsync(connection, transaction, verified, retainVerified, maxItems, cancellationToken).ConfigureAwait(false);
            var finals = await PruneFinalsAsync(connection, transaction, "final_proofs", verified, finalsBefore, maxItems, cancellationToken).ConfigureAwait(false);
            var committed = await PruneFinalsAsync(connection, transaction, "committed_proofs", verified, finalsBefore, maxItems, cancellationToken).ConfigureAwait(false);
            var txs = await PruneTxsAsync(connection, transaction, verified, finalsBefore, maxItems, cancellationToken).ConfigureAwait(false);
            var (eventSequences, events) = await PruneEventsAsync(connection, transaction, verified, retainVerified, maxItems, cancellationToken)
                .ConfigureAwait(false);
            return new RetentionResult(sequences, tasks, batches, finals, committed, txs, eventSequences, events);
        }, cancellationToken);
    }

    private static async Task<(int Sequences, int Tasks, int Batches)> PruneSequencesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        long verified, int retainVerified, int maxItems, CancellationToken cancellationToken)
    {
        long cutoff;
        using (var find = Command(connection, transaction,
            "SELECT final_batch FROM sequences WHERE final_batch <= @v ORDER BY final_batch DESC LIMIT 1 OFFSET @n;"))
        {
            Bind(find, "@v", verified);
            Bind(find, "@n", retainVerified);
            if (await find.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not long c)
            {
                return (0, 0, 0);
            }

            cutoff = c;
        }

        var candidates = new List<long>();
        using (var select = Command(connection, transaction, $"""
            SELECT s.final_batch FROM sequences s
            WHERE s.pruned = 0 AND s.final_batch <= @c AND s.state IN (1, 2, 3)
              AND NOT EXISTS (SELECT 1 FROM submissions u WHERE u.final_batch = s.final_batch AND u.state NOT IN ({ClosedSubmissionStates}))
            ORDER BY s.final_batch LIMIT @k;
            """))
        {
            Bind(select, "@c", cutoff);
            Bind(select, "@k", maxItems);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                candidates.Add(I64(reader, 0));
            }
        }

        var (tasks, batches) = (0, 0);
        foreach (var finalBatch in candidates)
        {
            tasks += await ExecuteForAsync(connection, transaction, "DELETE FROM tasks WHERE final_batch = @f;", finalBatch, cancellationToken).ConfigureAwait(false);
            batches += await ExecuteForAsync(connection, transaction, "DELETE FROM batches WHERE final_batch = @f;", finalBatch, cancellationToken).ConfigureAwait(false);
            await ExecuteForAsync(connection, transaction, "UPDATE sequences SET pruned = 1 WHERE final_batch = @f;", finalBatch, cancellationToken).ConfigureAwait(false);
        }

        return (candidates.Count, tasks, batches);
    }

    private static async Task<int> PruneFinalsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, long verified, long before,
        int maxItems, CancellationToken cancellationToken)
    {
        using var delete = Command(connection, transaction, $"""
            DELETE FROM {table} WHERE ctid = ANY (ARRAY(
                SELECT p.ctid FROM {table} p
                WHERE p.created_ms < @before AND p.final_batch <= @v
                  AND NOT EXISTS (SELECT 1 FROM submissions u WHERE u.final_batch = p.final_batch AND u.state NOT IN ({ClosedSubmissionStates}))
                ORDER BY p.created_ms LIMIT @k));
            """);
        Bind(delete, "@before", before);
        Bind(delete, "@v", verified);
        Bind(delete, "@k", maxItems);
        return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>As <see cref="SqliteStore"/>'s: our finished hash and reveal transactions of verified sequences whose
    /// submission is closed, last changed before <paramref name="before"/>, with their signed versions.</summary>
    private static async Task<int> PruneTxsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long verified, long before, int maxItems,
        CancellationToken cancellationToken)
    {
        using var delete = Command(connection, transaction, $"""
            WITH gone AS (
                SELECT t.id FROM txs t
                WHERE t.state IN (4, 5) AND t.updated_ms < @before
                  AND (t.idem_key LIKE 'submitProofHash/%' OR t.idem_key LIKE 'verifyBatches/%')
                  AND split_part(t.idem_key, '/', 2)::bigint <= @v
                  AND NOT EXISTS (SELECT 1 FROM submissions u
                                  WHERE u.final_batch = split_part(t.idem_key, '/', 2)::bigint AND u.state NOT IN ({ClosedSubmissionStates}))
                ORDER BY t.updated_ms LIMIT @k),
            versions AS (DELETE FROM tx_versions WHERE tx_id IN (SELECT id FROM gone))
            DELETE FROM txs WHERE id IN (SELECT id FROM gone);
            """);
        Bind(delete, "@before", before);
        Bind(delete, "@v", verified);
        Bind(delete, "@k", maxItems);
        return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>As <see cref="SqliteStore"/>'s: the rollup events of other miners of old synced sequences (the first reveal,
    /// the sequence's own event, our senders' events and the epoch changes are kept).</summary>
    private static async Task<(int Sequences, int Events)> PruneEventsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long verified,
        int retainVerified, int maxItems, CancellationToken cancellationToken)
    {
        long cutoff;
        using (var find = Command(connection, transaction,
            "SELECT final_batch FROM sync_sequences WHERE final_batch <= @v ORDER BY final_batch DESC LIMIT 1 OFFSET @n;"))
        {
            Bind(find, "@v", verified);
            Bind(find, "@n", retainVerified);
            if (await find.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not long c)
            {
                return (0, 0);
            }

            cutoff = c;
        }

        var candidates = new List<long>();
        using (var select = Command(connection, transaction,
            "SELECT final_batch FROM sync_sequences WHERE events_pruned = 0 AND final_batch <= @c ORDER BY final_batch LIMIT @k;"))
        {
            Bind(select, "@c", cutoff);
            Bind(select, "@k", maxItems);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                candidates.Add(I64(reader, 0));
            }
        }

        var events = 0;
        foreach (var finalBatch in candidates)
        {
            events += await ExecuteForAsync(connection, transaction, SqliteStore.OtherMinersEventsSql.Replace("$f", "@f", StringComparison.Ordinal), finalBatch,
                cancellationToken).ConfigureAwait(false);
            await ExecuteForAsync(connection, transaction, "UPDATE sync_sequences SET events_pruned = 1 WHERE final_batch = @f;", finalBatch, cancellationToken)
                .ConfigureAwait(false);
        }

        return (candidates.Count, events);
    }

    private static async Task<int> ExecuteForAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, long finalBatch,
        CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction, sql);
        Bind(command, "@f", finalBatch);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
