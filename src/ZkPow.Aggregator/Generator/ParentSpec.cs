namespace ZkPow.Aggregator.Generator;

/// <summary>
/// What completing a task may unlock: the parent aggregation (or final) task over (<see cref="FromBatch"/>,
/// <see cref="ToBatch"/>], created only when the sibling range (<see cref="SiblingFrom"/>, <see cref="SiblingTo"/>]
/// is done too (a final task has no sibling).
/// </summary>
public sealed record ParentSpec(TaskKind Kind, ulong FromBatch, ulong ToBatch, ulong SiblingFrom, ulong SiblingTo, bool IsLeftChild)
{
    public bool HasSibling => Kind == TaskKind.Aggregate;
}
