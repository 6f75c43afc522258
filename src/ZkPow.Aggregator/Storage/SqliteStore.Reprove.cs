using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Storage;

/// <summary>Proving a whole sequence again after its final proof was rejected.</summary>
public sealed partial class SqliteStore
{
    public Task<IReadOnlyList<ProofTask>> ReproveSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        var now = NowMs;
        return _writer.WriteAsync<IReadOnlyList<ProofTask>>((connection, transaction) =>
        {
            using var find = Command(connection, transaction, "SELECT init_batch FROM sequences WHERE final_batch = $f;");
            Bind(find, "$f", L(finalBatch));
            var init = find.ExecuteScalar();
            if (init is not long initBatch)
            {
                return [];
            }

            // The makers of every final proof of this sequence so far (the discarded rounds' too): none of the new tasks
            // goes to them while another prover can take it (each new task passes the list on to its parent).
            var avoid = new List<string>();
            using (var makers = Command(connection, transaction, """
                SELECT prover_name FROM final_proofs WHERE final_batch = $f
                UNION SELECT made_by FROM tasks WHERE final_batch = $f AND kind = $k AND made_by IS NOT NULL;
                """))
            {
                Bind(makers, "$f", L(finalBatch));
                Bind(makers, "$k", (int)TaskKind.Final);
                using var reader = makers.ExecuteReader();
                while (reader.Read())
                {
                    avoid.Add(reader.GetString(0));
                }
            }

            using (var delete = Command(connection, transaction, "DELETE FROM final_proofs WHERE final_batch = $f;"))
            {
                Bind(delete, "$f", L(finalBatch));
                delete.ExecuteNonQuery();
            }

            using (var reopen = Command(connection, transaction, "UPDATE sequences SET state = 0 WHERE final_batch = $f;"))
            {
                Bind(reopen, "$f", L(finalBatch));
                reopen.ExecuteNonQuery();
            }

            using (var discard = Command(connection, transaction, """
                UPDATE tasks SET state = 4, last_error = $reason, prover_name = NULL, prover_instance = NULL, job_id = NULL,
                    lease_until_ms = NULL, updated_ms = $now
                WHERE final_batch = $f AND state <> 4;
                """))
            {
                Bind(discard, "$f", L(finalBatch));
                Bind(discard, "$reason", reason);
                Bind(discard, "$now", now);
                discard.ExecuteNonQuery();
            }

            var avoidList = avoid.Distinct(StringComparer.Ordinal).ToArray();
            var created = new List<ProofTask>();
            for (var b = (ulong)initBatch + 1; b <= finalBatch; b++)
            {
                if (InsertTask(connection, transaction, finalBatch, (ulong)initBatch, TaskKind.Batch, b - 1, b, null, null, avoidList, now) is { } task)
                {
                    created.Add(task);
                }
            }

            return created;
        }, cancellationToken);
    }
}
