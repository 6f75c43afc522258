using Npgsql;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Storage;

public sealed partial class PostgresStore : ISyncStore
{
    public async Task<SyncCursor?> GetCursorAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "SELECT block_num, block_hash FROM sync_cursor WHERE id = 1;");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? new SyncCursor((ulong)I64(reader, 0), reader.GetString(1)) : null;
    }

    public async Task<IReadOnlyList<SyncCursor>> GetRecordedBlocksAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, """
            SELECT block_num, block_hash FROM (
                SELECT block_num, block_hash FROM sync_events
                UNION
                SELECT block_num, block_hash FROM sync_sequences
            ) AS recorded
            ORDER BY block_num DESC
            LIMIT @limit;
            """);
        Bind(command, "@limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var blocks = new List<SyncCursor>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            blocks.Add(new SyncCursor((ulong)I64(reader, 0), reader.GetString(1)));
        }

        return blocks;
    }

    public Task ApplyRangeAsync(SyncRange range, CancellationToken cancellationToken)
    {
        var now = NowMs;
        return WriteAsync(async (connection, transaction) =>
        {
            foreach (var sequence in range.Sequences)
            {
                using var insert = Command(connection, transaction, """
                    INSERT INTO sync_sequences (final_batch, init_batch, block_num, block_hash, tx_hash, acc_input_hash, status, reason, created_ms, updated_ms)
                    VALUES (@f, @i, @b, @h, @tx, @acc, @s, @r, @now, @now)
                    ON CONFLICT (final_batch) DO UPDATE SET init_batch = excluded.init_batch, block_num = excluded.block_num,
                        block_hash = excluded.block_hash, tx_hash = excluded.tx_hash, acc_input_hash = excluded.acc_input_hash,
                        status = excluded.status, reason = excluded.reason, updated_ms = excluded.updated_ms;
                    """);
                Bind(insert, "@f", L(sequence.FinalBatch));
                Bind(insert, "@i", L(sequence.InitBatch));
                Bind(insert, "@b", L(sequence.BlockNumber));
                Bind(insert, "@h", sequence.BlockHash);
                Bind(insert, "@tx", sequence.TransactionHash);
                Bind(insert, "@acc", sequence.AccInputHash);
                Bind(insert, "@s", (int)sequence.Status);
                Bind(insert, "@r", sequence.Reason);
                Bind(insert, "@now", now);
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            foreach (var e in range.Events)
            {
                using var insert = Command(connection, transaction, """
                    INSERT INTO sync_events (block_num, log_index, block_hash, kind, final_batch, account, value)
                    VALUES (@b, @l, @h, @k, @f, @a, @v)
                    ON CONFLICT (block_num, log_index) DO UPDATE SET block_hash = excluded.block_hash, kind = excluded.kind,
                        final_batch = excluded.final_batch, account = excluded.account, value = excluded.value;
                    """);
                Bind(insert, "@b", L(e.BlockNumber));
                Bind(insert, "@l", e.LogIndex);
                Bind(insert, "@h", e.BlockHash);
                Bind(insert, "@k", (int)e.Kind);
                Bind(insert, "@f", e.FinalBatch is { } f ? L(f) : null);
                Bind(insert, "@a", e.Account);
                Bind(insert, "@v", e.Value);
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            foreach (var (final, reason) in range.Lost)
            {
                using var update = Command(connection, transaction, "UPDATE sync_sequences SET status = 2, reason = @r, updated_ms = @now WHERE final_batch = @f;");
                Bind(update, "@r", reason);
                Bind(update, "@now", now);
                Bind(update, "@f", L(final));
                await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await SetCursorAsync(connection, transaction, range.To, now, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<SyncedSequence>> RollbackAsync(SyncCursor forkPoint, CancellationToken cancellationToken)
    {
        var now = NowMs;
        return WriteAsync<IReadOnlyList<SyncedSequence>>(async (connection, transaction) =>
        {
            var removed = new List<SyncedSequence>();
            using (var select = Command(connection, transaction, $"{SequenceSelect} WHERE block_num > @b ORDER BY final_batch;"))
            {
                Bind(select, "@b", L(forkPoint.BlockNumber));
                await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    removed.Add(ReadSequence(reader));
                }
            }

            foreach (var sql in new[] { "DELETE FROM sync_sequences WHERE block_num > @b;", "DELETE FROM sync_events WHERE block_num > @b;" })
            {
                using var delete = Command(connection, transaction, sql);
                Bind(delete, "@b", L(forkPoint.BlockNumber));
                await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await SetCursorAsync(connection, transaction, forkPoint, now, cancellationToken).ConfigureAwait(false);
            return removed;
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<string>> GetCommittersAsync(ulong finalBatch, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "SELECT DISTINCT account FROM sync_events WHERE final_batch = @f AND kind = 1;");
        Bind(command, "@f", L(finalBatch));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var accounts = new List<string>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            accounts.Add(reader.GetString(0));
        }

        return accounts;
    }

    public async Task<IReadOnlyList<SyncedSequence>> GetSequencesAfterAsync(ulong blockNumber, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"{SequenceSelect} WHERE block_num > @b ORDER BY final_batch;");
        Bind(command, "@b", L(blockNumber));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var sequences = new List<SyncedSequence>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            sequences.Add(ReadSequence(reader));
        }

        return sequences;
    }

    public async Task<SyncedSequence?> GetSequenceAsync(ulong finalBatch, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"{SequenceSelect} WHERE final_batch = @f;");
        Bind(command, "@f", L(finalBatch));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadSequence(reader) : null;
    }

    public async Task<IReadOnlyList<SequenceSyncStatus>> ListSequenceStatusAsync(string ourAddress, int limit, CancellationToken cancellationToken)
    {
        var ours = ourAddress.ToLowerInvariant();
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        var sequences = new List<SyncedSequence>();
        using (var command = Command(connection, null, $"{SequenceSelect} ORDER BY final_batch DESC LIMIT @limit;"))
        {
            Bind(command, "@limit", limit);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                sequences.Add(ReadSequence(reader));
            }
        }

        var result = new List<SequenceSyncStatus>(sequences.Count);
        foreach (var sequence in sequences)
        {
            using var events = Command(connection, null,
                "SELECT kind, account, value, block_num FROM sync_events WHERE final_batch = @f AND kind IN (1, 2) ORDER BY block_num, log_index;");
            Bind(events, "@f", L(sequence.FinalBatch));
            await using var reader = await events.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            string? verifiedBy = null;
            ulong roundStart = 0;
            var committers = new List<SequenceCommitter>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var account = reader.IsDBNull(1) ? string.Empty : reader.GetString(1);
                if (I32(reader, 0) == (int)SyncEventKind.VerifyBatches)
                {
                    verifiedBy ??= account;
                    continue;
                }

                committers.Add(new SequenceCommitter(account, (ulong)I64(reader, 3), account == ours));
                if (!reader.IsDBNull(2) && ulong.TryParse(reader.GetString(2), System.Globalization.CultureInfo.InvariantCulture, out var start))
                {
                    roundStart = Math.Max(roundStart, start);
                }
            }

            result.Add(new SequenceSyncStatus(sequence.FinalBatch, sequence.InitBatch, sequence.Status, sequence.Reason, verifiedBy, roundStart, committers));
        }

        return result;
    }

    private const string SequenceSelect =
        "SELECT final_batch, init_batch, block_num, block_hash, tx_hash, acc_input_hash, status, reason FROM sync_sequences";

    private static SyncedSequence ReadSequence(NpgsqlDataReader r) => new(
        (ulong)I64(r, 0), (ulong)I64(r, 1), (ulong)I64(r, 2), r.GetString(3), r.GetString(4), (byte[])r.GetValue(5),
        (SyncSequenceStatus)I32(r, 6), r.IsDBNull(7) ? null : r.GetString(7));

    private static async Task SetCursorAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, SyncCursor cursor, long now,
        CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction, """
            INSERT INTO sync_cursor (id, block_num, block_hash, updated_ms) VALUES (1, @b, @h, @now)
            ON CONFLICT (id) DO UPDATE SET block_num = excluded.block_num, block_hash = excluded.block_hash, updated_ms = excluded.updated_ms;
            """);
        Bind(command, "@b", L(cursor.BlockNumber));
        Bind(command, "@h", cursor.BlockHash);
        Bind(command, "@now", now);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
