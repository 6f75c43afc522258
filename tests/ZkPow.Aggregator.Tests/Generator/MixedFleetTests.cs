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
    public void a_slow_prover_leaves_aggregations_and_finals_to_faster_ones_when_a_batch_is_ready_soon_after_them()
    {
        var aggregate = Node(0, 5, TaskKind.Aggregate, 0, 3);
        var final = Node(5, 6, TaskKind.Final, 5, 6);
        var batch = Node(6, 14, TaskKind.Batch, 6, 7);
        static bool NoOther(ProofTask _) => false;

        Assert.Same(batch, ProofGenerator.Pick([aggregate, final, batch], "slow", slow: true, NoOther));
        Assert.Same(aggregate, ProofGenerator.Pick([aggregate, final, batch], "fast", slow: false, NoOther));
        // Nothing but chain tasks: the slow prover takes the best of them rather than idle.
        Assert.Same(aggregate, ProofGenerator.Pick([aggregate, final], "slow", slow: true, NoOther));
        Assert.Null(ProofGenerator.Pick([], "slow", slow: true, NoOther));
    }

    [Fact]
    public void a_slow_prover_looks_for_a_batch_only_within_the_first_few_ready_tasks()
    {
        var chain = Enumerable.Range(0, ProofGenerator.SlowProverLookahead)
            .Select(i => Node((ulong)(10 * i), (ulong)((10 * i) + 2), TaskKind.Aggregate, (ulong)(10 * i), (ulong)((10 * i) + 2)))
            .ToList();
        var batch = Node(100, 102, TaskKind.Batch, 100, 101);

        // A batch right after lookahead − 1 chain tasks is taken; one after lookahead chain tasks is too far: the first
        // chain task goes.
        Assert.Same(batch, ProofGenerator.Pick([.. chain.Take(ProofGenerator.SlowProverLookahead - 1), batch], "slow", slow: true, _ => true));
        Assert.Same(chain[0], ProofGenerator.Pick([.. chain, batch], "slow", slow: true, _ => true));
    }

    [Fact]
    public void a_task_a_prover_avoids_goes_to_it_only_when_no_other_prover_can_take_it_and_nothing_else_fits()
    {
        var avoided = Node(0, 2, TaskKind.Batch, 0, 1) with { AvoidProvers = ["p"] };
        var other = Node(0, 2, TaskKind.Batch, 1, 2);

        Assert.Same(other, ProofGenerator.Pick([avoided, other], "p", slow: false, _ => false));
        Assert.Null(ProofGenerator.Pick([avoided], "p", slow: false, _ => true));
        Assert.Same(avoided, ProofGenerator.Pick([avoided], "p", slow: false, _ => false));
        Assert.Same(avoided, ProofGenerator.Pick([avoided], "q", slow: false, _ => true));
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
        // 600 ms against 5 ms a batch: the slow one leaves chain tasks to the fast one (see the Pick tests above).
        Assert.True(h.Generator.IsSlow("slow"));
        Assert.False(h.Generator.IsSlow("fast"));
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
