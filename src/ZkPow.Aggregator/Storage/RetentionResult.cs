namespace ZkPow.Aggregator.Storage;

/// <summary>What one retention step deleted: the sequences whose recursive proofs (task rows) and batch inputs went, and
/// the final and committed proofs that aged out.</summary>
public sealed record RetentionResult(int Sequences, int Tasks, int Batches, int FinalProofs, int CommittedProofs)
{
    public static RetentionResult None { get; } = new(0, 0, 0, 0, 0);

    public bool IsEmpty => Sequences == 0 && FinalProofs == 0 && CommittedProofs == 0;
}
