using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Tests.Generator;

/// <summary>Which prover gets which task when provers differ in speed, and the least-slack order of ready tasks.</summary>
public sealed class MixedFleetTests
{
    private static ProofTask Node(ulong init, ulong final, TaskKind kind, ulong from, ulong to) => new()
    {
        Id = (long)((final * 1000) + (from * 10) + to),
        Sequence = final,
        SequenceInit = init,
        Kind = kind,
        FromBatch = from,
        ToBatch = to,
    };

    [Fact]
    public void a_task_is_as_high_as_the_jobs_from_it_to_the_final_proof()
    {
        // The tree of (0,5]: (0,3] and (3,5]; (0,2], (2,3], (3,4], (4,5]; (0,1] and (1,2] under (0,2].
        Assert.Equal(1, SlackPriority.Height(Node(0, 5, TaskKind.Final, 0, 5)));
        Assert.Equal(2, SlackPriority.Height(Node(0, 5, TaskKind.Aggregate, 0, 5)));
        Assert.Equal(3, SlackPriority.Height(Node(0, 5, TaskKind.Aggregate, 0, 3)));
        Assert.Equal(3, SlackPriority.Height(Node(0, 5, TaskKind.Aggregate, 3, 5)));
        Assert.Equal(4, SlackPriority.Height(Node(0, 5, TaskKind.Batch, 2, 3)));
        Assert.Equal(4, SlackPriority.Height(Node(0, 5, TaskKind.Batch, 4, 5)));
        Assert.Equal(5, SlackPriority.Height(Node(0, 5, TaskKind.Batch, 0, 1)));
        Assert.Equal(5, SlackPriority.Height(Node(0, 5, TaskKind.Batch, 1, 2)));
        Assert.Equal(2, SlackPriority.Height(Node(5, 6, TaskKind.Batch, 5, 6)));
        Assert.Equal(2, SlackPriority.Height(Node(0, 5, TaskKind.Batch, 1, 4))); // not a node of the tree
    }

    [Fact]
    public void with_a_large_fleet_the_deep_batches_of_a_later_sequence_go_before_the_final_of_an_earlier_one()
    {
        var final = Node(0, 5, TaskKind.Final, 0, 5);
        var root = Node(0, 5, TaskKind.Aggregate, 0, 5);
        var deepBatch = Node(5, 13, TaskKind.Batch, 5, 6); // depth 3 of an 8-batch sequence: height 5
        var nextSequenceFinal = Node(5, 13, TaskKind.Final, 5, 13);

        var alone = new SlackPriority(TaskPriority.Default) { Fleet = 1 };
        Assert.Equal([root, final, deepBatch, nextSequenceFinal], new[] { deepBatch, nextSequenceFinal, root, final }.Order(alone));

        var fleet = new SlackPriority(TaskPriority.Default) { Fleet = 16 };
        Assert.Equal([deepBatch, root, final, nextSequenceFinal], new[] { nextSequenceFinal, final, root, deepBatch }.Order(fleet));
    }

    [Fact]
    public async Task a_task_that_becomes_ready_while_a_fast_and_a_slow_prover_wait_goes_to_the_fast_one()
    {
        await using var h = await GeneratorHarness.StartAsync();
        var fast = h.AddProver("fast", o => o.BatchLatency = o.AggregateLatency = o.FinalLatency = TimeSpan.FromMilliseconds(5));
        var slow = h.AddProver("slow", o => o.BatchLatency = o.AggregateLatency = o.FinalLatency = TimeSpan.FromMilliseconds(600));
        await GeneratorHarness.WaitUntilAsync(() => h.Generator.ConnectedProvers().Count == 2, what: "both provers to connect");

        // Each learns its speed on batches of two-batch sequences (until the slow one has done one).
        var finals = 0;
        while (slow.Counters.BatchJobsStarted == 0 && finals < 5)
        {
            await h.AddSequenceAsync(2);
            await h.WaitForFinalsAsync(++finals);
        }

        Assert.True(slow.Counters.BatchJobsStarted > 0, "the slow prover never got a batch to learn its speed on");
        var slowBefore = slow.Counters.BatchJobsStarted;

        // The fast prover reconnects (its speed is remembered by name): the slow one has now waited longer. A batch that
        // comes while both wait goes to the fast one all the same, each time.
        var before = h.Generator.ConnectedProvers().Single(p => p.Name == "fast").InstanceId;
        await h.StopProverAsync(fast);
        fast = h.AddProver("fast", o => o.BatchLatency = o.AggregateLatency = o.FinalLatency = TimeSpan.FromMilliseconds(5));
        for (var i = 0; i < 3; i++)
        {
            await GeneratorHarness.WaitUntilAsync(() => h.Generator.WaitingProvers == 2 &&
                h.Generator.ConnectedProvers() is { Count: 2 } connected && connected.Any(p => p.Name == "fast" && p.InstanceId != before),
                what: "both provers (the fast one on its new connection) to wait for work");
            await h.AddSequenceAsync(1);
            await h.WaitForFinalsAsync(++finals);
        }

        Assert.Equal(slowBefore, slow.Counters.BatchJobsStarted);
        Assert.Equal(3, fast.Counters.BatchJobsStarted);
    }
}
