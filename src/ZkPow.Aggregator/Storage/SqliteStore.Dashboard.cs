using Microsoft.Data.Sqlite;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Dashboard;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Storage;

/// <summary>The dashboard's reads: sequences across sync, generator and sender; transactions; rewards and slashes.</summary>
public sealed partial class SqliteStore
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
            LIMIT $limit;
            """);
        Bind(command, "$limit", limit);
        using var r = command.ExecuteReader();
        var rows = new List<DashboardSequenceRow>();
        while (r.Read())
        {
            ulong? chainRound = !r.IsDBNull(17) && ulong.TryParse(r.GetString(17), System.Globalization.CultureInfo.InvariantCulture, out var start) ? start : null;
            rows.Add(new DashboardSequenceRow
            {
                FinalBatch = (ulong)r.GetInt64(0),
                InitBatch = (ulong)r.GetInt64(1),
                SequencedBlock = (ulong)r.GetInt64(2),
                SyncStatus = (SyncSequenceStatus)r.GetInt32(3),
                SyncReason = r.IsDBNull(4) ? null : r.GetString(4),
                GeneratorState = r.IsDBNull(5) ? null : r.GetInt32(5),
                TasksTotal = r.GetInt32(6),
                TasksDone = r.GetInt32(7),
                TasksParked = r.GetInt32(8),
                HasFinalProof = r.GetBoolean(9),
                Submission = r.IsDBNull(10) ? null : (SubmissionState)r.GetInt32(10),
                RoundStart = !r.IsDBNull(11) ? (ulong)r.GetInt64(11) : chainRound,
                Retries = r.IsDBNull(12) ? 0 : r.GetInt32(12),
                ParkedReason = r.IsDBNull(13) ? null : r.GetString(13),
                LastError = r.IsDBNull(14) ? null : r.GetString(14),
                VerifiedBy = r.IsDBNull(15) ? null : r.GetString(15),
                VerifiedBlock = r.IsDBNull(16) ? null : (ulong)r.GetInt64(16),
                Committers = r.GetInt32(18),
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
            WHERE state IN (0, 1, 2, 3) OR id IN (SELECT id FROM txs WHERE state IN (4, 5) ORDER BY updated_ms DESC, id DESC LIMIT $recent)
            ORDER BY id DESC;
            """);
        Bind(command, "$recent", recent);
        using var r = command.ExecuteReader();
        var txs = new List<DashboardTx>();
        while (r.Read())
        {
            txs.Add(new DashboardTx(r.GetInt64(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : (ulong)r.GetInt64(3),
                ((TxState)r.GetInt32(4)).ToString(), Text(r, 5), Text(r, 6), Text(r, 7), r.IsDBNull(8) ? null : (ulong)r.GetInt64(8), r.GetInt32(9),
                r.GetInt32(10), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(11)),
                r.IsDBNull(12) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(12))));
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
                WHERE kind IN ($reward, $slash) AND account = $a
                ORDER BY block_num DESC, log_index DESC LIMIT $limit
            ) AS recent ORDER BY block_num, log_index;
            """);
        Bind(command, "$reward", (int)SyncEventKind.RewardPaid);
        Bind(command, "$slash", (int)SyncEventKind.Slashed);
        Bind(command, "$a", account.ToLowerInvariant());
        Bind(command, "$limit", limit);
        using var r = command.ExecuteReader();
        var earnings = new List<DashboardEarning>();
        while (r.Read())
        {
            earnings.Add(new DashboardEarning((ulong)r.GetInt64(0), r.GetInt32(1) == (int)SyncEventKind.RewardPaid ? "reward" : "slash",
                r.IsDBNull(2) ? null : (ulong)r.GetInt64(2), r.IsDBNull(3) ? "0" : r.GetString(3)));
        }

        return earnings;
    }

    /// <summary>Sequences whose first recorded verification is by <paramref name="account"/>.</summary>
    public async Task<int> CountVerifiedByAsync(string account, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, """
            SELECT COUNT(*) FROM sync_sequences s
            WHERE (SELECT e.account FROM sync_events e WHERE e.final_batch = s.final_batch AND e.kind = $verify
                   ORDER BY e.block_num, e.log_index LIMIT 1) = $a;
            """);
        Bind(command, "$verify", (int)SyncEventKind.VerifyBatches);
        Bind(command, "$a", account.ToLowerInvariant());
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string? Text(SqliteDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetString(column);
}
