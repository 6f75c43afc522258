using Microsoft.Data.Sqlite;
using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Tests.Generator;

public sealed class ReproveSequenceTests
{
    [Fact]
    public async Task a_rejected_final_proof_is_discarded_and_its_whole_sequence_proved_again_preferring_other_provers()
    {
        await using var h = await GeneratorHarness.StartAsync();
        h.AddProver("first");
        var sequence = await h.AddSequenceAsync(3);
        await h.WaitForFinalsAsync(1);
        var before = await h.Store.GetFinalProofAsync(sequence.FinalNewBatch, default);
        Assert.NotNull(before);

        var queued = await h.Generator.ReproveSequenceAsync(sequence.FinalNewBatch, "rejected in a test", null, default);

        Assert.Equal(3, queued);
        h.AddProver("second");
        await h.WaitForFinalsAsync(2);
        var after = await h.Store.GetFinalProofAsync(sequence.FinalNewBatch, default);
        Assert.NotNull(after);
        Assert.Equal(before!.NewStateRoot, after!.NewStateRoot);
        var tasks = await h.Store.LoadOpenTasksAsync(default);
        Assert.Empty(tasks); // the sequence has its final proof again: nothing open
    }

    [Fact]
    public async Task the_maker_of_a_rejected_final_proof_is_quarantined_and_no_task_of_the_sequence_goes_to_it_again()
    {
        await using var h = await GeneratorHarness.StartAsync();
        var first = h.AddProver("first");
        var sequence = await h.AddSequenceAsync(4);
        await h.WaitForFinalsAsync(1);
        Assert.Equal("first", h.Finals[0].ProverName);
        var second = h.AddProver("second");
        await GeneratorHarness.WaitUntilAsync(() => h.Generator.ConnectedProvers().Count == 2, what: "the second prover connected");
        var jobsOfFirst = first.Counters.BatchJobsStarted + first.Counters.AggregatedJobsStarted + first.Counters.FinalJobsStarted;

        await h.Generator.ReproveSequenceAsync(sequence.FinalNewBatch, "rejected in a test", "first", default);

        Assert.Equal("first", Assert.Single(h.Generator.Quarantined).Name);
        await h.WaitForFinalsAsync(2);
        Assert.Equal("second", h.Finals[1].ProverName);
        Assert.Equal(jobsOfFirst, first.Counters.BatchJobsStarted + first.Counters.AggregatedJobsStarted + first.Counters.FinalJobsStarted);
        Assert.Equal(4, second.Counters.BatchJobsStarted);
        Assert.Equal(1, second.Counters.FinalJobsStarted);
    }

    [Fact]
    public async Task every_task_of_a_reproved_sequence_and_its_parents_avoid_the_makers_of_its_rejected_final_proofs()
    {
        await using var h = await GeneratorHarness.StartAsync();
        h.AddProver("only");
        var sequence = await h.AddSequenceAsync(3);
        await h.WaitForFinalsAsync(1);

        // The only prover is the last usable one: it is not quarantined, and takes the avoided tasks as no other can.
        await h.Generator.ReproveSequenceAsync(sequence.FinalNewBatch, "rejected in a test", "only", default);
        await h.WaitForFinalsAsync(2);
        await h.Generator.ReproveSequenceAsync(sequence.FinalNewBatch, "rejected again", "only", default);
        await h.WaitForFinalsAsync(3);

        Assert.Empty(h.Generator.Quarantined);
        await using var db = new SqliteConnection($"Data Source={h.Dir.File("gen.db")};Mode=ReadOnly");
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = "SELECT kind, avoid_provers FROM tasks WHERE final_batch = $s AND state = 2;";
        command.Parameters.AddWithValue("$s", (long)sequence.FinalNewBatch);
        using var reader = command.ExecuteReader();
        var done = new List<(TaskKind Kind, string Avoid)>();
        while (reader.Read())
        {
            done.Add(((TaskKind)reader.GetInt32(0), reader.GetString(1)));
        }

        Assert.Equal(3 + 2 + 1, done.Count); // 3 batches, 2 aggregations, the final: all of the last round
        Assert.Contains(done, t => t.Kind == TaskKind.Final);
        Assert.All(done, t => Assert.Equal("only", t.Avoid));
    }

    [Fact]
    public async Task reproving_an_unknown_sequence_does_nothing()
    {
        await using var h = await GeneratorHarness.StartAsync();
        Assert.Equal(0, await h.Generator.ReproveSequenceAsync(99, "unknown", null, default));
    }
}
