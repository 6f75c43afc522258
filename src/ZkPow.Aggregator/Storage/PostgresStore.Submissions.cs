using Npgsql;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Sender;

namespace ZkPow.Aggregator.Storage;

/// <summary>Our submission state per sequence (table <c>submissions</c>, migration 4) and the proofs behind our commitments
/// (table <c>committed_proofs</c>, migration 5).</summary>
public sealed partial class PostgresStore : ISubmissionStore
{
    private const string SubmissionColumns =
        "final_batch, init_batch, state, hash_attempt, proof_attempt, round_start, proof_hash, retries, parked_reason, last_error";

    public async Task<SubmissionRecord?> GetSubmissionAsync(ulong finalBatch, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"SELECT {SubmissionColumns} FROM submissions WHERE final_batch = @f;");
        Bind(command, "@f", L(finalBatch));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadSubmission(reader) : null;
    }

    public Task SaveSubmissionAsync(SubmissionRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var now = NowMs;
        return WriteAsync(async (connection, transaction) =>
        {
            using var command = Command(connection, transaction, """
                INSERT INTO submissions (final_batch, init_batch, state, hash_attempt, proof_attempt, round_start, proof_hash, retries,
                                         parked_reason, last_error, created_ms, updated_ms)
                VALUES (@f, @i, @s, @ha, @pa, @rs, @ph, @r, @pr, @e, @now, @now)
                ON CONFLICT (final_batch) DO UPDATE SET init_batch = excluded.init_batch, state = excluded.state,
                    hash_attempt = excluded.hash_attempt, proof_attempt = excluded.proof_attempt, round_start = excluded.round_start,
                    proof_hash = excluded.proof_hash, retries = excluded.retries, parked_reason = excluded.parked_reason,
                    last_error = excluded.last_error, updated_ms = excluded.updated_ms;
                """);
            Bind(command, "@f", L(record.FinalBatch));
            Bind(command, "@i", L(record.InitBatch));
            Bind(command, "@s", (int)record.State);
            Bind(command, "@ha", record.HashAttempt);
            Bind(command, "@pa", record.ProofAttempt);
            Bind(command, "@rs", record.RoundStart is { } start ? L(start) : null);
            Bind(command, "@ph", record.ProofHash);
            Bind(command, "@r", record.Retries);
            Bind(command, "@pr", record.ParkedReason);
            Bind(command, "@e", record.LastError);
            Bind(command, "@now", now);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<SubmissionRecord>> ListOpenSubmissionsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"""
            SELECT {SubmissionColumns} FROM submissions WHERE state NOT IN (@revealed, @lost, @parked, @slashed) ORDER BY final_batch;
            """);
        Bind(command, "@slashed", (int)SubmissionState.Slashed);
        Bind(command, "@revealed", (int)SubmissionState.Revealed);
        Bind(command, "@lost", (int)SubmissionState.Lost);
        Bind(command, "@parked", (int)SubmissionState.Parked);
        return await ReadSubmissionsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<SubmissionRecord>> ListRevealedAboveAsync(ulong batch, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"""
            SELECT {SubmissionColumns} FROM submissions WHERE state = @revealed AND final_batch > @batch ORDER BY final_batch;
            """);
        Bind(command, "@revealed", (int)SubmissionState.Revealed);
        Bind(command, "@batch", (long)batch);
        return await ReadSubmissionsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ulong>> ListUnsentFinalProofsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, """
            SELECT f.final_batch FROM final_proofs f LEFT JOIN submissions s ON s.final_batch = f.final_batch
            WHERE s.final_batch IS NULL OR s.state = @reproving ORDER BY f.final_batch;
            """);
        Bind(command, "@reproving", (int)SubmissionState.Reproving);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var finals = new List<ulong>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            finals.Add((ulong)I64(reader, 0));
        }

        return finals;
    }

    public async Task<IReadOnlyList<SenderParkedSequence>> ListSenderParkedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, """
            SELECT s.final_batch, s.init_batch, s.parked_reason, s.last_error, s.retries, COALESCE(c.prover_name, f.prover_name), s.updated_ms
            FROM submissions s
            LEFT JOIN committed_proofs c ON c.final_batch = s.final_batch AND c.proof_hash = s.proof_hash
            LEFT JOIN final_proofs f ON f.final_batch = s.final_batch
            WHERE s.state = @parked ORDER BY s.final_batch;
            """);
        Bind(command, "@parked", (int)SubmissionState.Parked);
        await using var r = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var parked = new List<SenderParkedSequence>();
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            parked.Add(new SenderParkedSequence((ulong)I64(r, 0), (ulong)I64(r, 1), r.IsDBNull(2) ? null : r.GetString(2),
                r.IsDBNull(3) ? null : r.GetString(3), I32(r, 4), r.IsDBNull(5) ? null : r.GetString(5),
                DateTimeOffset.FromUnixTimeMilliseconds(I64(r, 6))));
        }

        return parked;
    }

    /// <summary>Stored final proofs of sequences the sender has not parked (a parked sequence's proof is counted as
    /// parked, not as a final proof).</summary>
    public async Task<int> CountUnparkedFinalProofsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        return (int)await ScalarAsync<long>(connection, null, $"""
            SELECT COUNT(*) FROM final_proofs f LEFT JOIN submissions s ON s.final_batch = f.final_batch
            WHERE s.state IS NULL OR s.state <> {(int)SubmissionState.Parked};
            """, cancellationToken);
    }

    public Task SaveCommittedProofAsync(byte[] proofHash, FinalProofRecord proof, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(proofHash);
        ArgumentNullException.ThrowIfNull(proof);
        var now = NowMs;
        return WriteAsync(async (connection, transaction) =>
        {
            using var command = Command(connection, transaction, """
                INSERT INTO committed_proofs (final_batch, proof_hash, init_batch, proof, aggregator_addr, new_state_root, new_acc_input_hash,
                                              new_local_exit_root, prover_name, created_ms)
                VALUES (@f, @h, @i, @p, @a, @sr, @ai, @le, @pn, @now)
                ON CONFLICT (final_batch, proof_hash) DO NOTHING;
                """);
            Bind(command, "@f", L(proof.FinalBatch));
            Bind(command, "@h", proofHash);
            Bind(command, "@i", L(proof.InitBatch));
            Bind(command, "@p", proof.Proof);
            Bind(command, "@a", proof.AggregatorAddress);
            Bind(command, "@sr", proof.NewStateRoot);
            Bind(command, "@ai", proof.NewAccInputHash);
            Bind(command, "@le", proof.NewLocalExitRoot);
            Bind(command, "@pn", proof.ProverName);
            Bind(command, "@now", now);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    public async Task<FinalProofRecord?> GetCommittedProofAsync(ulong finalBatch, byte[] proofHash, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, """
            SELECT init_batch, final_batch, proof, aggregator_addr, new_state_root, new_acc_input_hash, new_local_exit_root, prover_name, created_ms
            FROM committed_proofs WHERE final_batch = @f AND proof_hash = @h;
            """);
        Bind(command, "@f", L(finalBatch));
        Bind(command, "@h", proofHash);
        await using var r = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return ReadFinalProof(r);
    }

    private static SubmissionRecord ReadSubmission(NpgsqlDataReader r) => new()
    {
        FinalBatch = (ulong)I64(r, 0),
        InitBatch = (ulong)I64(r, 1),
        State = (SubmissionState)I32(r, 2),
        HashAttempt = I32(r, 3),
        ProofAttempt = I32(r, 4),
        RoundStart = r.IsDBNull(5) ? null : (ulong)I64(r, 5),
        ProofHash = r.IsDBNull(6) ? null : (byte[])r.GetValue(6),
        Retries = I32(r, 7),
        ParkedReason = r.IsDBNull(8) ? null : r.GetString(8),
        LastError = r.IsDBNull(9) ? null : r.GetString(9),
    };

    private static async Task<List<SubmissionRecord>> ReadSubmissionsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var records = new List<SubmissionRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            records.Add(ReadSubmission(reader));
        }

        return records;
    }
}
