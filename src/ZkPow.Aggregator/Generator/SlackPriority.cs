namespace ZkPow.Aggregator.Generator;

/// <summary>
/// Least slack first, which matters only when more tasks are ready than provers are free. Sequences are verified in
/// order, so a sequence is due when the fleet could have done the work of every sequence up to it: two tasks per batch
/// (n batches, n − 1 aggregations, one final), and batch numbers count up across sequences, so sequence s is due about
/// 2·s / P job times after the first for a fleet of P provers. A task must start its height before that (itself, the
/// aggregations above it and the final: depth + 2 jobs), counted at <see cref="HeightWeight"/> job times per level.
/// Ordering by due − weighted height starts the deep leaves of later
/// sequences before the last jobs of earlier ones, which can wait, so that each sequence's chain of aggregations runs
/// while the fleet still works on the sequences before it rather than after them: sequences finish near the time the
/// fleet's work allows, and the run does not end on one sequence's chain with most provers idle. With a fleet of one
/// it is the inner order for sequences of three batches or more. Equal keys fall back to the inner order.
/// </summary>
internal sealed class SlackPriority(IComparer<ProofTask> inner) : IComparer<ProofTask>
{
    /// <summary>The fleet size P the keys are computed with; change it only with the sorted set emptied (keys change).</summary>
    public double Fleet { get; set; } = 1;

    public int Compare(ProofTask? x, ProofTask? y)
    {
        if (x is not null && y is not null && !ReferenceEquals(x, y))
        {
            var c = Key(x).CompareTo(Key(y));
            if (c != 0)
            {
                return c;
            }
        }

        return inner.Compare(x, y);
    }

    /// <summary>When the task must start, in job times: the sequence's due time less the task's (weighted) height.</summary>
    public double Key(ProofTask task) => (2.0 * task.Sequence / Fleet) - (HeightWeight * Height(task));

    /// <summary>How many job times a unit of height counts for. A whole job time per level starts later sequences so early
    /// that the sequences before them finish later than they need to; half of one gave the lower mean sequence latency
    /// (and the same makespan) in the benchmarks of docs/benchmarks.md, most of all with a mixed fleet.</summary>
    public const double HeightWeight = 0.5;

    /// <summary>The jobs from this task to the sequence's final proof, both included: 1 for the final, depth + 2 for
    /// the node of the aggregation tree at that depth (the root is at depth 0). A range that is not a node counts 2.</summary>
    public static int Height(ProofTask task)
    {
        if (task.Kind == TaskKind.Final)
        {
            return 1;
        }

        var (lo, hi) = (task.SequenceInit, task.Sequence);
        var depth = 0;
        while (lo < hi && (lo, hi) != (task.FromBatch, task.ToBatch))
        {
            var mid = AggregationTree.Mid(lo, hi);
            if (task.ToBatch <= mid && task.FromBatch >= lo)
            {
                hi = mid;
            }
            else if (task.FromBatch >= mid && task.ToBatch <= hi)
            {
                lo = mid;
            }
            else
            {
                return 2;
            }

            depth++;
        }

        return lo < hi ? depth + 2 : 2;
    }
}
