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

        var queued = await h.Generator.ReproveSequenceAsync(sequence.FinalNewBatch, "rejected in a test", default);

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
    public async Task reproving_an_unknown_sequence_does_nothing()
    {
        await using var h = await GeneratorHarness.StartAsync();
        Assert.Equal(0, await h.Generator.ReproveSequenceAsync(99, "unknown", default));
    }
}
