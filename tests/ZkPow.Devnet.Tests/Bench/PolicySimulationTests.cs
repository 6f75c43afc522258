using ZkPow.Aggregator.Generator;
using ZkPow.Devnet.Bench;

namespace ZkPow.Devnet.Tests.Bench;

public sealed class PolicySimulationTests
{
    private static readonly TimeSpan Ms10 = TimeSpan.FromMilliseconds(10);

    [Fact]
    public void two_batches_on_two_equal_provers_take_three_job_times()
    {
        var outcome = PolicySimulation.Run(TwoBatchSequence(init: 0, work: Ms10), Synced((2, TimeSpan.Zero)), [1, 1]);

        // Both batches at once (10 ms), then the aggregation (20 ms), then the final (30 ms).
        Assert.Equal(TimeSpan.FromMilliseconds(30), outcome.Makespan);
        Assert.Equal(TimeSpan.FromMilliseconds(30), outcome.FinalAt[2]);
    }

    [Fact]
    public void a_task_that_becomes_ready_goes_to_the_fastest_idle_prover_not_the_one_idle_longest()
    {
        // Work of 40 ms: 10 ms on the prover of speed 4, 40 ms on the other. The fast prover takes the first batch and
        // waits from 10 ms; the aggregation (ready at 40 ms) and the final must go to it, not to the slow prover.
        var outcome = PolicySimulation.Run(TwoBatchSequence(init: 0, work: TimeSpan.FromMilliseconds(40)), Synced((2, TimeSpan.Zero)), [1, 4]);

        Assert.Equal(TimeSpan.FromMilliseconds(60), outcome.FinalAt[2]);
    }

    [Fact]
    public void a_sequence_starts_when_it_is_synced()
    {
        var jobs = new List<PolicySimulation.Job>
        {
            new(Task(1, TaskKind.Batch, init: 4, sequence: 5, from: 4, to: 5), Ms10),
            new(Task(2, TaskKind.Final, init: 4, sequence: 5, from: 4, to: 5, input1: 1), Ms10),
        };

        var outcome = PolicySimulation.Run(jobs, Synced((5, TimeSpan.FromMilliseconds(100))), [1, 1, 1]);

        Assert.Equal(TimeSpan.FromMilliseconds(120), outcome.FinalAt[5]);
    }

    [Fact]
    public void a_slow_prover_leaves_an_aggregation_to_the_fast_one_when_a_batch_is_waiting()
    {
        // Three sequences of two batches, synced at once, every job 40 ms of work: 10 ms on the prover of speed 4, 40 ms
        // on the one of speed 1, which counts as slow. The fast prover does sequence 2's first batch and sequence 4's
        // batches, then one of sequence 6's. At 40 ms the slow prover ends sequence 2's second batch with sequence 4's
        // aggregation and sequence 6's other batch ready: it takes the batch, and the fast prover does the aggregation
        // (50 to 60 ms, after sequence 2's) and sequence 4's final (70 to 80 ms). Taken by the slow prover, that
        // aggregation would end at 80 ms and the final at 90 ms.
        var work = TimeSpan.FromMilliseconds(40);
        PolicySimulation.Job[] jobs = [.. TwoBatchSequence(0, work), .. TwoBatchSequence(2, work, firstId: 10), .. TwoBatchSequence(4, work, firstId: 20)];

        var outcome = PolicySimulation.Run(jobs, Synced((2, TimeSpan.Zero), (4, TimeSpan.Zero), (6, TimeSpan.Zero)), [1, 4]);

        Assert.Equal(TimeSpan.FromMilliseconds(70), outcome.FinalAt[2]);
        Assert.Equal(TimeSpan.FromMilliseconds(80), outcome.FinalAt[4]);
        Assert.Equal(TimeSpan.FromMilliseconds(130), outcome.FinalAt[6]);
        Assert.Equal(TimeSpan.FromMilliseconds(130), outcome.Makespan);
    }

    [Fact]
    public void nothing_to_play_gives_an_empty_outcome()
    {
        Assert.Equal(TimeSpan.Zero, PolicySimulation.Run([], Synced(), [1]).Makespan);
        Assert.Empty(PolicySimulation.Run(TwoBatchSequence(0, Ms10), Synced((2, TimeSpan.Zero)), []).FinalAt);
    }

    /// <summary>Batches init and init + 1, their aggregation and the final of sequence init + 2, every job of this work.</summary>
    private static PolicySimulation.Job[] TwoBatchSequence(ulong init, TimeSpan work, long firstId = 1)
    {
        var sequence = init + 2;
        return
        [
            new(Task(firstId, TaskKind.Batch, init, sequence, init, init + 1), work),
            new(Task(firstId + 1, TaskKind.Batch, init, sequence, init + 1, init + 2), work),
            new(Task(firstId + 2, TaskKind.Aggregate, init, sequence, init, init + 2, firstId, firstId + 1), work),
            new(Task(firstId + 3, TaskKind.Final, init, sequence, init, init + 2, firstId + 2), work),
        ];
    }

    private static ProofTask Task(long id, TaskKind kind, ulong init, ulong sequence, ulong from, ulong to, long? input1 = null, long? input2 = null) =>
        new() { Id = id, Kind = kind, SequenceInit = init, Sequence = sequence, FromBatch = from, ToBatch = to, Input1 = input1, Input2 = input2 };

    private static Dictionary<ulong, TimeSpan> Synced(params (ulong Sequence, TimeSpan At)[] sequences) =>
        sequences.ToDictionary(s => s.Sequence, s => s.At);
}
