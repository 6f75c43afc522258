namespace ZkPow.Aggregator.Generator;

/// <summary>
/// The order in which ready tasks go to provers: lower sequence first; within a sequence final, then aggregate,
/// then batch (finish what is closest to the chain); then lower batch range. Replace this comparer to change the
/// policy (for example to put sequences with a round deadline first); it must be a total order (ties broken by id).
/// </summary>
public sealed class TaskPriority : IComparer<ProofTask>
{
    public static TaskPriority Default { get; } = new();

    public int Compare(ProofTask? x, ProofTask? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        var c = x.Sequence.CompareTo(y.Sequence);
        if (c != 0)
        {
            return c;
        }

        c = Rank(x.Kind).CompareTo(Rank(y.Kind));
        if (c != 0)
        {
            return c;
        }

        c = x.FromBatch.CompareTo(y.FromBatch);
        return c != 0 ? c : x.Id.CompareTo(y.Id);
    }

    private static int Rank(TaskKind kind) => kind switch
    {
        TaskKind.Final => 0,
        TaskKind.Aggregate => 1,
        TaskKind.Batch => 2,
        _ => 3,
    };
}
