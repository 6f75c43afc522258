namespace ZkPow.Aggregator.Generator;

/// <summary>
/// The fixed, balanced aggregation tree of a sequence (Init, Final]: a node (lo, hi] with more than one batch has
/// the children (lo, mid] and (mid, hi], the left one taking the larger half. An n-batch sequence has n − 1
/// aggregations and depth ⌈log2 n⌉; each aggregation starts as soon as both of its children are proved.
/// </summary>
public static class AggregationTree
{
    /// <summary>What completing the node (from, to] of sequence (init, final] unlocks.</summary>
    public static ParentSpec ParentOf(ulong init, ulong final, ulong from, ulong to)
    {
        if (from < init || to > final || from >= to)
        {
            throw new ArgumentException($"({from},{to}] is not inside the sequence ({init},{final}]");
        }

        if (from == init && to == final)
        {
            return new ParentSpec(TaskKind.Final, init, final, 0, 0, IsLeftChild: true);
        }

        var (lo, hi) = (init, final);
        while (true)
        {
            var mid = Mid(lo, hi);
            if (from == lo && to == mid)
            {
                return new ParentSpec(TaskKind.Aggregate, lo, hi, mid, hi, IsLeftChild: true);
            }

            if (from == mid && to == hi)
            {
                return new ParentSpec(TaskKind.Aggregate, lo, hi, lo, mid, IsLeftChild: false);
            }

            if (to <= mid)
            {
                hi = mid;
            }
            else if (from >= mid)
            {
                lo = mid;
            }
            else
            {
                throw new ArgumentException($"({from},{to}] is not a node of the aggregation tree of ({init},{final}]");
            }
        }
    }

    /// <summary>The split point of (lo, hi]: the left child gets ⌈n/2⌉ batches.</summary>
    public static ulong Mid(ulong lo, ulong hi) => lo + ((hi - lo + 1) / 2);

    /// <summary>Depth of the tree for n batches (0 for one batch).</summary>
    public static int Depth(ulong batches)
    {
        var depth = 0;
        for (var n = batches; n > 1; n = (n + 1) / 2)
        {
            depth++;
        }

        return depth;
    }
}
