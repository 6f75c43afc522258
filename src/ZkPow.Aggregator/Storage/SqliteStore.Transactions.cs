using System.Globalization;
using System.Numerics;
using Microsoft.Data.Sqlite;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Storage;

public sealed partial class SqliteStore : ITxStore
{
    private const string TxColumns =
        "id, idem_key, kind, sender, to_addr, data, value_wei, state, gas_limit, nonce, max_fee, priority_fee, legacy, raw_tx, tx_hash, " +
        "block_number, block_hash, succeeded, revert_data, revert_message, error, replacements, rebroadcasts, reorgs, created_ms, updated_ms, sent_ms";

    public Task<TxCreateResult> CreateTxAsync(TxRequest request, string sender, CancellationToken cancellationToken)
    {
        request.Validate();
        var now = NowMs;
        var from = sender.ToLowerInvariant();
        return _writer.WriteAsync((connection, transaction) => CreateTx(connection, transaction, request, from, now), ahead: true, cancellationToken);
    }

    private static TxCreateResult CreateTx(SqliteConnection connection, SqliteTransaction transaction, TxRequest request, string from, long now)
    {
        using (var insert = Command(connection, transaction, $"""
            INSERT INTO txs (idem_key, kind, sender, to_addr, data, value_wei, state, gas_limit, created_ms, updated_ms)
            VALUES ($k, $kind, $s, $to, $d, $v, 0, $g, $now, $now)
            ON CONFLICT (idem_key) DO NOTHING
            RETURNING {TxColumns};
            """))
        {
            Bind(insert, "$k", request.Key);
            Bind(insert, "$kind", request.Kind);
            Bind(insert, "$s", from);
            Bind(insert, "$to", request.To.ToLowerInvariant());
            Bind(insert, "$d", request.Data);
            Bind(insert, "$v", request.Value.ToString(CultureInfo.InvariantCulture));
            Bind(insert, "$g", checked((long)(request.GasLimit ?? 0)));
            Bind(insert, "$now", now);
            using var reader = insert.ExecuteReader();
            if (reader.Read())
            {
                return new TxCreateResult(ReadTx(reader), true);
            }
        }

        using var existing = Command(connection, transaction, $"SELECT {TxColumns} FROM txs WHERE idem_key = $k;");
        Bind(existing, "$k", request.Key);
        using var r = existing.ExecuteReader();
        return r.Read()
            ? new TxCreateResult(ReadTx(r), false)
            : throw new InvalidOperationException($"transaction '{request.Key}' neither inserted nor found");
    }

    public async Task<TxRecord?> GetTxAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"SELECT {TxColumns} FROM txs WHERE idem_key = $k;");
        Bind(command, "$k", key);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadTx(reader) : null;
    }

    public async Task<TxRecord?> GetTxAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"SELECT {TxColumns} FROM txs WHERE id = $id;");
        Bind(command, "$id", id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadTx(reader) : null;
    }

    public async Task<IReadOnlyList<TxRecord>> LoadOpenTxsAsync(string sender, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"""
            SELECT {TxColumns} FROM txs WHERE sender = $s AND state IN (0, 1, 2, 3) ORDER BY nonce, id;
            """);
        Bind(command, "$s", sender.ToLowerInvariant());
        using var reader = command.ExecuteReader();
        var records = new List<TxRecord>();
        while (reader.Read())
        {
            records.Add(ReadTx(reader));
        }

        return records;
    }

    public Task<ulong> ReconcileNonceAsync(string sender, ulong nodePendingNonce, CancellationToken cancellationToken)
    {
        var from = sender.ToLowerInvariant();
        return _writer.WriteAsync((connection, transaction) =>
        {
            using (var insert = Command(connection, transaction,
                "INSERT INTO tx_senders (sender, next_nonce) VALUES ($s, $n) ON CONFLICT (sender) DO NOTHING;"))
            {
                Bind(insert, "$s", from);
                Bind(insert, "$n", checked((long)nodePendingNonce));
                insert.ExecuteNonQuery();
            }

            using (var raise = Command(connection, transaction, "UPDATE tx_senders SET next_nonce = $n WHERE sender = $s AND next_nonce < $n;"))
            {
                Bind(raise, "$s", from);
                Bind(raise, "$n", checked((long)nodePendingNonce));
                raise.ExecuteNonQuery();
            }

            using var read = Command(connection, transaction, "SELECT next_nonce FROM tx_senders WHERE sender = $s;");
            Bind(read, "$s", from);
            return (ulong)(long)read.ExecuteScalar()!;
        }, cancellationToken);
    }

    public Task<TxRecord?> StoreSignedAsync(long txId, string sender, Func<ulong, SignedTx> sign, CancellationToken cancellationToken)
    {
        var now = NowMs;
        var from = sender.ToLowerInvariant();
        return _writer.WriteAsync((connection, transaction) => StoreSigned(connection, transaction, txId, from, sign, now), ahead: true, cancellationToken);
    }

    private static TxRecord? StoreSigned(SqliteConnection connection, SqliteTransaction transaction, long txId, string from, Func<ulong, SignedTx> sign,
        long now)
    {
        using (var check = Command(connection, transaction, "SELECT COUNT(*) FROM txs WHERE id = $id AND sender = $s AND state = 0;"))
        {
            Bind(check, "$id", txId);
            Bind(check, "$s", from);
            if ((long)check.ExecuteScalar()! != 1)
            {
                return null;
            }
        }

        long nonce;
        using (var read = Command(connection, transaction, "SELECT next_nonce FROM tx_senders WHERE sender = $s;"))
        {
            Bind(read, "$s", from);
            if (read.ExecuteScalar() is not long next)
            {
                return null;
            }

            nonce = next;
        }

        SignedTx signed;
        try
        {
            signed = sign((ulong)nonce);
        }
        catch (Exception e) when (e is not InvalidOperationException)
        {
            throw new InvalidOperationException($"signing transaction {txId} failed: {e.Message}", e);
        }

        if (signed.Nonce != (ulong)nonce)
        {
            throw new InvalidOperationException($"transaction {txId} was signed with nonce {signed.Nonce}, not the assigned {nonce}");
        }

        // Compare-and-set: with several writers only one takes this nonce.
        using (var advance = Command(connection, transaction,
            "UPDATE tx_senders SET next_nonce = next_nonce + 1 WHERE sender = $s AND next_nonce = $n;"))
        {
            Bind(advance, "$s", from);
            Bind(advance, "$n", nonce);
            if (advance.ExecuteNonQuery() != 1)
            {
                throw new InvalidOperationException($"nonce {nonce} of {from} was taken concurrently");
            }
        }

        InsertVersion(connection, transaction, txId, 0, signed, now);
        using var update = Command(connection, transaction, $"""
            UPDATE txs SET state = 1, nonce = $n, gas_limit = $g, max_fee = $mf, priority_fee = $pf, legacy = $l, raw_tx = $raw,
                tx_hash = $h, updated_ms = $now
            WHERE id = $id AND state = 0
            RETURNING {TxColumns};
            """);
        Bind(update, "$n", nonce);
        Bind(update, "$g", checked((long)signed.GasLimit));
        Bind(update, "$mf", signed.Fees.MaxFeePerGas.ToString(CultureInfo.InvariantCulture));
        Bind(update, "$pf", signed.Fees.MaxPriorityFeePerGas.ToString(CultureInfo.InvariantCulture));
        Bind(update, "$l", signed.Fees.Legacy ? 1 : 0);
        Bind(update, "$raw", signed.Raw);
        Bind(update, "$h", signed.Hash);
        Bind(update, "$now", now);
        Bind(update, "$id", txId);
        using var reader = update.ExecuteReader();
        return reader.Read() ? ReadTx(reader) : throw new InvalidOperationException($"transaction {txId} changed while being signed");
    }

    public Task<TxRecord?> StoreReplacementAsync(long txId, SignedTx replacement, CancellationToken cancellationToken) =>
        StoreVersionAsync(txId, replacement, null, cancellationToken);

    public Task<TxRecord?> StoreCancelAsync(long txId, SignedTx cancel, string to, CancellationToken cancellationToken) =>
        StoreVersionAsync(txId, cancel, to, cancellationToken);

    private Task<TxRecord?> StoreVersionAsync(long txId, SignedTx replacement, string? cancelTo, CancellationToken cancellationToken)
    {
        var now = NowMs;
        var cancel = cancelTo is null ? string.Empty : ", kind = $kind, to_addr = $to, data = $data, value_wei = '0'";
        return _writer.WriteAsync((connection, transaction) =>
        {
            using var update = Command(connection, transaction, $"""
                UPDATE txs SET max_fee = $mf, priority_fee = $pf, legacy = $l, raw_tx = $raw, tx_hash = $h, gas_limit = $g,
                    replacements = replacements + 1, sent_ms = $now, updated_ms = $now{cancel}
                WHERE id = $id AND state IN (1, 2) AND nonce = $n
                RETURNING {TxColumns};
                """);
            if (cancelTo is not null)
            {
                Bind(update, "$kind", TxRequest.CancelKind);
                Bind(update, "$to", cancelTo);
                Bind(update, "$data", Array.Empty<byte>());
            }

            Bind(update, "$mf", replacement.Fees.MaxFeePerGas.ToString(CultureInfo.InvariantCulture));
            Bind(update, "$pf", replacement.Fees.MaxPriorityFeePerGas.ToString(CultureInfo.InvariantCulture));
            Bind(update, "$l", replacement.Fees.Legacy ? 1 : 0);
            Bind(update, "$raw", replacement.Raw);
            Bind(update, "$h", replacement.Hash);
            Bind(update, "$g", checked((long)replacement.GasLimit));
            Bind(update, "$now", now);
            Bind(update, "$id", txId);
            Bind(update, "$n", checked((long)replacement.Nonce));
            TxRecord record;
            using (var reader = update.ExecuteReader())
            {
                if (!reader.Read())
                {
                    return null;
                }

                record = ReadTx(reader);
            }

            long version;
            using (var next = Command(connection, transaction, "SELECT COALESCE(MAX(version), -1) + 1 FROM tx_versions WHERE tx_id = $id;"))
            {
                Bind(next, "$id", txId);
                version = (long)next.ExecuteScalar()!;
            }

            InsertVersion(connection, transaction, txId, version, replacement, now);
            return record;
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<string>> GetTxHashesAsync(long txId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "SELECT tx_hash FROM tx_versions WHERE tx_id = $id ORDER BY version;");
        Bind(command, "$id", txId);
        using var reader = command.ExecuteReader();
        var hashes = new List<string>();
        while (reader.Read())
        {
            hashes.Add(reader.GetString(0));
        }

        return hashes;
    }

    public Task<TxRecord?> TransitionTxAsync(long txId, IReadOnlyCollection<TxState> from, TxChange change, CancellationToken cancellationToken)
    {
        if (from.Count == 0)
        {
            throw new ArgumentException("no source state", nameof(from));
        }

        var now = NowMs;
        var states = string.Join(", ", from.Select(s => ((int)s).ToString(CultureInfo.InvariantCulture)));
        return _writer.WriteAsync((connection, transaction) => TransitionTx(connection, transaction, txId, states, change, now), ahead: true,
            cancellationToken);
    }

    private static TxRecord? TransitionTx(SqliteConnection connection, SqliteTransaction transaction, long txId, string states, TxChange change, long now)
    {
        if (change.TxHash is not null)
        {
            using var adopt = Command(connection, transaction, AdoptMinedVersionSql(states));
            Bind(adopt, "$id", txId);
            Bind(adopt, "$h", change.TxHash);
            adopt.ExecuteNonQuery();
        }

        using var update = Command(connection, transaction, $"""
            UPDATE txs SET
                state = $to,
                tx_hash = COALESCE($h, tx_hash),
                block_number = CASE WHEN $clear = 1 THEN NULL ELSE COALESCE($bn, block_number) END,
                block_hash = CASE WHEN $clear = 1 THEN NULL ELSE COALESCE($bh, block_hash) END,
                succeeded = CASE WHEN $clear = 1 THEN NULL ELSE COALESCE($ok, succeeded) END,
                revert_data = CASE WHEN $hasRevert = 1 THEN $rd ELSE revert_data END,
                revert_message = CASE WHEN $hasRevert = 1 THEN $rm ELSE revert_message END,
                error = COALESCE($e, error),
                sent_ms = CASE WHEN $b = 1 THEN $now ELSE sent_ms END,
                rebroadcasts = rebroadcasts + $cr,
                reorgs = reorgs + $cg,
                updated_ms = $now
            WHERE id = $id AND state IN ({states})
            RETURNING {TxColumns};
            """);
        Bind(update, "$to", (int)change.To);
        Bind(update, "$h", change.TxHash);
        Bind(update, "$clear", change.ClearBlock ? 1 : 0);
        Bind(update, "$bn", change.BlockNumber is { } bn ? checked((long)bn) : null);
        Bind(update, "$bh", change.BlockHash);
        Bind(update, "$ok", change.Succeeded is { } ok ? (ok ? 1 : 0) : null);
        Bind(update, "$hasRevert", change.Revert is null ? 0 : 1);
        Bind(update, "$rd", change.Revert?.Data);
        Bind(update, "$rm", change.Revert?.Message);
        Bind(update, "$e", change.Error);
        Bind(update, "$b", change.Broadcast ? 1 : 0);
        Bind(update, "$cr", change.CountRebroadcast ? 1 : 0);
        Bind(update, "$cg", change.CountReorg ? 1 : 0);
        Bind(update, "$now", now);
        Bind(update, "$id", txId);
        using var reader = update.ExecuteReader();
        return reader.Read() ? ReadTx(reader) : null;
    }

    public Task WarmUpWritesAsync(string sender, SignedTx signed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signed);
        var now = NowMs;
        var from = sender.ToLowerInvariant();
        return _writer.WriteAsync((connection, transaction) =>
        {
            // Inside a savepoint that is always rolled back: the rows, the sender's nonce and the id sequence stay as they were.
            transaction.Save("warm_up");
            try
            {
                var created = CreateTx(connection, transaction, new TxRequest($"warm-up/{now}", "warm-up", from, []), from, now);
                if (StoreSigned(connection, transaction, created.Record.Id, from, nonce => signed with { Nonce = nonce }, now) is { } stored)
                {
                    TransitionTx(connection, transaction, stored.Id, "1", new TxChange(TxState.Sent) { Broadcast = true }, now);
                }
            }
            finally
            {
                transaction.Rollback("warm_up");
                transaction.Release("warm_up");
            }

            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// The version whose hash a receipt shows mined becomes the transaction's current one: its call (kind, to,
    /// data, value, gas limit), raw transaction and fees, whatever version (a fee replacement, a cancel) was signed after it.
    /// Versions stored before their call was kept (no kind) leave the row as it is.
    /// </summary>
    private static string AdoptMinedVersionSql(string states) => $"""
        UPDATE txs SET kind = v.kind, to_addr = v.to_addr, data = v.data, value_wei = v.value_wei, gas_limit = v.gas_limit,
            raw_tx = v.raw_tx, max_fee = v.max_fee, priority_fee = v.priority_fee
        FROM tx_versions v
        WHERE txs.id = $id AND txs.state IN ({states}) AND v.tx_id = txs.id AND v.tx_hash = $h AND v.kind IS NOT NULL;
        """;

    /// <summary>Counts per transaction state, for status pages and tests.</summary>
    public async Task<IReadOnlyDictionary<TxState, int>> CountTxsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "SELECT state, COUNT(*) FROM txs GROUP BY state;");
        using var reader = command.ExecuteReader();
        var counts = new Dictionary<TxState, int>();
        while (reader.Read())
        {
            counts[(TxState)reader.GetInt32(0)] = reader.GetInt32(1);
        }

        return counts;
    }

    private static void InsertVersion(SqliteConnection connection, SqliteTransaction transaction, long txId, long version, SignedTx signed, long now)
    {
        using var insert = Command(connection, transaction, """
            INSERT INTO tx_versions (tx_id, version, tx_hash, raw_tx, max_fee, priority_fee, created_ms, kind, to_addr, data, value_wei, gas_limit)
            SELECT $id, $v, $h, $raw, $mf, $pf, $now, kind, to_addr, data, value_wei, $g FROM txs WHERE id = $id;
            """);
        Bind(insert, "$id", txId);
        Bind(insert, "$v", version);
        Bind(insert, "$h", signed.Hash);
        Bind(insert, "$raw", signed.Raw);
        Bind(insert, "$mf", signed.Fees.MaxFeePerGas.ToString(CultureInfo.InvariantCulture));
        Bind(insert, "$pf", signed.Fees.MaxPriorityFeePerGas.ToString(CultureInfo.InvariantCulture));
        Bind(insert, "$now", now);
        Bind(insert, "$g", checked((long)signed.GasLimit));
        insert.ExecuteNonQuery();
    }

    private static TxRecord ReadTx(SqliteDataReader r)
    {
        string? Str(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        long? Long(int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
        BigInteger? Big(int i) => r.IsDBNull(i) ? null : BigInteger.Parse(r.GetString(i), CultureInfo.InvariantCulture);
        var maxFee = Big(10);
        var priority = Big(11);
        var revertMessage = Str(19);
        return new TxRecord
        {
            Id = r.GetInt64(0),
            Key = r.GetString(1),
            Kind = r.GetString(2),
            Sender = r.GetString(3),
            To = r.GetString(4),
            Data = (byte[])r.GetValue(5),
            Value = BigInteger.Parse(r.GetString(6), CultureInfo.InvariantCulture),
            State = (TxState)r.GetInt32(7),
            GasLimit = (ulong)r.GetInt64(8),
            Nonce = Long(9) is { } n ? (ulong)n : null,
            Fees = maxFee is { } mf && priority is { } pf ? new TxFees(mf, pf, r.GetInt32(12) != 0) : null,
            RawTx = r.IsDBNull(13) ? null : (byte[])r.GetValue(13),
            TxHash = Str(14),
            BlockNumber = Long(15) is { } b ? (ulong)b : null,
            BlockHash = Str(16),
            Succeeded = Long(17) is { } ok ? ok != 0 : null,
            Revert = revertMessage is null ? null : ChainRevert.Decode(Str(18), revertMessage),
            Error = Str(20),
            Replacements = r.GetInt32(21),
            Rebroadcasts = r.GetInt32(22),
            Reorgs = r.GetInt32(23),
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(24)),
            UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(25)),
            SentAt = Long(26) is { } sent ? DateTimeOffset.FromUnixTimeMilliseconds(sent) : null,
        };
    }
}
