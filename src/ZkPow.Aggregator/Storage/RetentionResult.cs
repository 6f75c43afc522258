namespace ZkPow.Aggregator.Storage;

/// <summary>What one retention step deleted: the sequences whose recursive proofs (task rows) and batch inputs went, the
/// final and committed proofs that aged out, our finished transactions (with their signed versions) that aged out, and
/// the rollup events of other miners of old verified sequences (with the synced sequences they were pruned for).</summary>
public sealed record RetentionResult(int Sequences, int Tasks, int Batches, int FinalProofs, int CommittedProofs, int Transactions = 0,
    int EventSequences = 0, int Events = 0)
{
    public static RetentionResult None { get; } = new(0, 0, 0, 0, 0);

    public bool IsEmpty => Sequences == 0 && FinalProofs == 0 && CommittedProofs == 0 && Transactions == 0 && EventSequences == 0;

    /// <summary>The sum of two steps.</summary>
    public RetentionResult Plus(RetentionResult other) => new(Sequences + other.Sequences, Tasks + other.Tasks, Batches + other.Batches,
        FinalProofs + other.FinalProofs, CommittedProofs + other.CommittedProofs, Transactions + other.Transactions,
        EventSequences + other.EventSequences, Events + other.Events);
}
