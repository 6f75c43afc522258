using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Tests.Generator;

public sealed class AggregationTreeTests
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(4, 2)]
    [InlineData(5, 3)]
    [InlineData(8, 3)]
    [InlineData(9, 4)]
    [InlineData(16, 4)]
    public void depth_is_ceil_log2_of_batch_count(int batches, int depth) =>
        Assert.Equal(depth, AggregationTree.Depth((ulong)batches));

    [Theory]
    [InlineData(10, 1)]
    [InlineData(10, 2)]
    [InlineData(10, 7)]
    [InlineData(0, 16)]
    public void walking_up_from_every_leaf_reaches_the_final_task_through_n_minus_1_aggregations(int init, int count)
    {
        var (lo, hi) = ((ulong)init, (ulong)(init + count));
        var aggregations = new HashSet<(ulong, ulong)>();
        var maxDepth = 0;
        for (var leaf = lo; leaf < hi; leaf++)
        {
            var (from, to) = (leaf, leaf + 1);
            var depth = 0;
            while (true)
            {
                var parent = AggregationTree.ParentOf(lo, hi, from, to);
                if (parent.Kind == TaskKind.Final)
                {
                    Assert.Equal((lo, hi), (parent.FromBatch, parent.ToBatch));
                    break;
                }

                depth++;
                aggregations.Add((parent.FromBatch, parent.ToBatch));
                // The two children are adjacent and together make the parent.
                var (left, right) = parent.IsLeftChild ? ((from, to), (parent.SiblingFrom, parent.SiblingTo)) : ((parent.SiblingFrom, parent.SiblingTo), (from, to));
                Assert.Equal(left.Item2, right.Item1);
                Assert.Equal((parent.FromBatch, parent.ToBatch), (left.Item1, right.Item2));
                (from, to) = (parent.FromBatch, parent.ToBatch);
            }

            maxDepth = Math.Max(maxDepth, depth);
        }

        Assert.Equal(count - 1, aggregations.Count);
        Assert.Equal(AggregationTree.Depth((ulong)count), maxDepth);
    }

    [Fact]
    public void a_range_that_is_not_a_tree_node_is_refused() =>
        Assert.Throws<ArgumentException>(() => AggregationTree.ParentOf(0, 8, 1, 3));
}
