using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Tests.Storage;

/// <summary>Retention on SQLite, and the query plans of its counters.</summary>
public sealed class SqliteRetentionTests() : RetentionTests(new SqliteTarget())
{
    [Fact]
    public async Task the_status_counters_are_answered_from_indexes()
    {
        await using var opened = await Target.OpenAsync();
        var store = (SqliteStore)opened;
        var tasks = string.Join(" | ", await store.ExplainAsync(SqliteStore.TaskCountsSql, None));
        Assert.Contains("SEARCH tasks USING COVERING INDEX tasks_by_state_kind", tasks, StringComparison.Ordinal);
        Assert.DoesNotContain("TEMP B-TREE", tasks, StringComparison.Ordinal);
        var finals = string.Join(" | ", await store.ExplainAsync(SqliteStore.FinalProofCountSql, None));
        Assert.Contains("SEARCH final_proofs USING COVERING INDEX final_proofs_by_created", finals, StringComparison.Ordinal);

        // The retention pass's own look-ups use indexes too.
        Assert.Contains("USING COVERING INDEX sync_events_by_kind",
            string.Join(" | ", await store.ExplainAsync("SELECT MAX(final_batch) FROM sync_events WHERE kind = 2;", None)), StringComparison.Ordinal);
        Assert.Contains("USING COVERING INDEX batches_by_sequence",
            string.Join(" | ", await store.ExplainAsync("DELETE FROM batches WHERE final_batch = 1;", None)), StringComparison.Ordinal);
        Assert.Contains("USING COVERING INDEX tasks_by_sequence",
            string.Join(" | ", await store.ExplainAsync("DELETE FROM tasks WHERE final_batch = 1;", None)), StringComparison.Ordinal);
    }
}
