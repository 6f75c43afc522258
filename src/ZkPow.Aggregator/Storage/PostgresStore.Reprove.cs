using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Storage;

/// <summary>Proving a whole sequence again after its final proof was rejected.</summary>
public sealed partial class PostgresStore
{
    public Task<IReadOnlyList<ProofTask>> ReproveSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        var now = NowMs;
        return WriteAsync<IReadOnlyList<ProofTask>>(async (connection, transaction) =>
        {
            using var find = Command(connection, transaction, "SELECT init_batch FROM sequences WHERE final_batch = @f FOR UPDATE;");
            Bind(find, "@f", L(finalBatch));
            var init = await find.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (init is not long initBatch)
            {
                return [];
            }

            // The makers of every final proof of this sequence so far (the discarded rounds' too): none of the new tasks
            // goes to them while another prover can take it (each new task passes the list on to its parent).
            var avoid = new List<string>();
            using (var makers = Command(connection, transaction, """
                SELECT prover_name FROM final_proofs WHERE final_batch = @f
                UNION SELECT made_by FROM tasks WHERE final_batch = @f AND kind = @k AND made_by IS NOT NULL;
                """))
            {
                Bind(makers, "@f", L(finalBatch));
                Bind(makers, "@k", (int)TaskKind.Final);
                await using var reader = await makers.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    avoid.Add(reader.GetString(0));
                }
            }

            using (var delete = Command(connection, transaction, "DELETE FROM final_proofs WHERE final_batch = @f;"))
            {
                Bind(delete, "@f", L(finalBatch));
                await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            using (var reopen = Command(connection, transaction, "UPDATE sequences SET state = 0 WHERE final_batch = @f;"))
            {
                Bind(reopen, "@f", L(finalBatch));
                await reopen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            using (var discard = Command(connection, transaction, """
                UPDATE tasks SET state = 4, last_error = @reason, prover_name = NULL, prover_instance = NULL, job_id = NULL,
                    lease_until_ms = NULL, updated_ms = @now
                WHERE final_batch = @f AND state <> 4;
                """))
            {
                Bind(discard, "@f", L(finalBatch));
                Bind(discard, "@reason", reason);
                Bind(discard, "@now", now);
                await discard.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var avoidList = avoid.Distinct(StringComparer.Ordinal).ToArray();
            var created = new List<ProofTask>();
            for (var b = (ulong)initBatch + 1; b <= finalBatch; b++)
            {
                if (await InsertTaskAsync(connection, transaction, finalBatch, (ulong)initBatch, TaskKind.Batch, b - 1, b, null, null, avoidList, now,
                    cancellationToken).ConfigureAwait(false) is { } task)
                {
                    created.Add(task);
                }
            }

            return created;
        }, cancellationToken);
    }
}
