namespace ZkPow.Aggregator.Storage;

/// <summary>What one retention step deleted: the sequences whose recursive proofs (task rows) and batch inputs went, the
/// final and committed proofs that aged out, and our finished transactions (with their signed versions) that aged out.</summary>
public sealed record RetentionResult(int Sequences, int Tasks, int Batches, int FinalProofs, int CommittedProofs, int Transactions = 0)
{
    public static RetentionResult None { get; } = new(0, 0, 0, 0, 0);

    public bool IsEmpty => Sequences == 0 && FinalProofs == 0 && CommittedProofs == 0 && Transactions == 0;
}
