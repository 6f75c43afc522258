using Npgsql;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Dashboard;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Storage;

/// <summary>The dashboard's reads: sequences across sync, generator and sender; transactions; rewards and slashes.</summary>
public sealed partial class PostgresStore
{
    /// <summary>The last <paramref name="limit"/> synced sequences, newest first.</summary>
    public async Task<IReadOnlyList<DashboardSequenceRow>> ListDashboardSequencesAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, """
            SELECT s.final_batch, s.init_batch, s.block_num, s.status, s.reason, g.state,
                (SELECT COUNT(*) FROM tasks t WHERE t.final_batch = s.final_batch AND t.state <> 4),
                (SELECT COUNT(*) FROM tasks t WHERE t.final_batch = s.final_batch AND t.state = 2),
                (SELECT COUNT(*) FROM tasks t WHERE t.final_batch = s.final_batch AND t.state = 3),
                f.final_batch IS NOT NULL,
                sub.state, sub.round_start, sub.retries, sub.parked_reason, sub.last_error,
                (SELECT e.account FROM sync_events e WHERE e.final_batch = s.final_batch AND e.kind = 2 ORDER BY e.block_num, e.log_index LIMIT 1),
                (SELECT e.block_num FROM sync_events e WHERE e.final_batch = s.final_batch AND e.kind = 2 ORDER BY e.block_num, e.log_index LIMIT 1),
                (SELECT e.value FROM sync_events e WHERE e.final_batch = s.final_batch AND e.kind = 1 ORDER BY e.block_num DESC, e.log_index DESC LIMIT 1),
                (SELECT COUNT(DISTINCT e.account) FROM sync_events e WHERE e.final_batch = s.final_batch AND e.kind = 1)
            FROM sync_sequences s
            LEFT JOIN sequences g ON g.final_batch = s.final_batch
            LEFT JOIN final_proofs f ON f.final_batch = s.final_batch
            LEFT JOIN submissions sub ON sub.final_batch = s.final_batch
            ORDER BY s.final_batch DESC
            LIMIT @limit;
            """);
        Bind(command, "@limit", limit);
        await using var r = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<DashboardSequenceRow>();
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ulong? chainRound = !r.IsDBNull(17) && ulong.TryParse(r.GetString(17), System.Globalization.CultureInfo.InvariantCulture, out var start) ? start : null;
            rows.Add(new DashboardSequenceRow
            {
                FinalBatch = (ulong)I64(r, 0),
                InitBatch = (ulong)I64(r, 1),
                SequencedBlock = (ulong)I64(r, 2),
                SyncStatus = (SyncSequenceStatus)I32(r, 3),
                SyncReason = r.IsDBNull(4) ? null : r.GetString(4),
                GeneratorState = r.IsDBNull(5) ? null : I32(r, 5),
                TasksTotal = I32(r, 6),
                TasksDone = I32(r, 7),
                TasksParked = I32(r, 8),
                HasFinalProof = r.GetBoolean(9),
                Submission = r.IsDBNull(10) ? null : (SubmissionState)I32(r, 10),
                RoundStart = !r.IsDBNull(11) ? (ulong)I64(r, 11) : chainRound,
                Retries = r.IsDBNull(12) ? 0 : I32(r, 12),
                ParkedReason = r.IsDBNull(13) ? null : r.GetString(13),
                LastError = r.IsDBNull(14) ? null : r.GetString(14),
                VerifiedBy = r.IsDBNull(15) ? null : r.GetString(15),
                VerifiedBlock = r.IsDBNull(16) ? null : (ulong)I64(r, 16),
                Committers = I32(r, 18),
            });
        }

        return rows;
    }

    /// <summary>Our transactions that are not final yet, and the <paramref name="recent"/> last final ones.</summary>
    public async Task<IReadOnlyList<DashboardTx>> ListDashboardTxsAsync(int recent, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, """
            SELECT id, kind, idem_key, nonce, state, max_fee, priority_fee, tx_hash, block_number, replacements, rebroadcasts, created_ms, sent_ms
            FROM txs
            WHERE state IN (0, 1, 2, 3) OR id IN (SELECT id FROM txs WHERE state IN (4, 5) ORDER BY updated_ms DESC, id DESC LIMIT @recent)
            ORDER BY id DESC;
            """);
        Bind(command, "@recent", recent);
        await using var r = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var txs = new List<DashboardTx>();
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            txs.Add(new DashboardTx(I64(r, 0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : (ulong)I64(r, 3),
                ((TxState)I32(r, 4)).ToString(), Text(r, 5), Text(r, 6), Text(r, 7), r.IsDBNull(8) ? null : (ulong)I64(r, 8), I32(r, 9),
                I32(r, 10), DateTimeOffset.FromUnixTimeMilliseconds(I64(r, 11)),
                r.IsDBNull(12) ? null : DateTimeOffset.FromUnixTimeMilliseconds(I64(r, 12))));
        }

        return txs;
    }

    /// <summary>Rewards paid to <paramref name="account"/> and its slashes, oldest first (the last <paramref name="limit"/>).</summary>
    public async Task<IReadOnlyList<DashboardEarning>> ListEarningsAsync(string account, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, """
            SELECT block_num, kind, final_batch, value FROM (
                SELECT block_num, log_index, kind, final_batch, value FROM sync_events
                WHERE kind IN (@reward, @slash) AND account = @a
                ORDER BY block_num DESC, log_index DESC LIMIT @limit
            ) AS recent ORDER BY block_num, log_index;
            """);
        Bind(command, "@reward", (int)SyncEventKind.RewardPaid);
        Bind(command, "@slash", (int)SyncEventKind.Slashed);
        Bind(command, "@a", account.ToLowerInvariant());
        Bind(command, "@limit", limit);
        await using var r = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var earnings = new List<DashboardEarning>();
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            earnings.Add(new DashboardEarning((ulong)I64(r, 0), I32(r, 1) == (int)SyncEventKind.RewardPaid ? "reward" : "slash",
                r.IsDBNull(2) ? null : (ulong)I64(r, 2), r.IsDBNull(3) ? "0" : r.GetString(3)));
        }

        return earnings;
    }

    /// <summary>Sequences whose first recorded verification is by <paramref name="account"/>.</summary>
    public async Task<int> CountVerifiedByAsync(string account, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, """
            SELECT COUNT(*) FROM sync_sequences s
            WHERE (SELECT e.account FROM sync_events e WHERE e.final_batch = s.final_batch AND e.kind = @verify
                   ORDER BY e.block_num, e.log_index LIMIT 1) = @a;
            """);
        Bind(command, "@verify", (int)SyncEventKind.VerifyBatches);
        Bind(command, "@a", account.ToLowerInvariant());
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string? Text(NpgsqlDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetString(column);
}
