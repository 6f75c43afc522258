namespace ZkPow.Aggregator.Generator;

/// <summary>
/// One proof task as the generator sees it. A task proves the batch range (<see cref="FromBatch"/>,
/// <see cref="ToBatch"/>], i.e. from the state after batch FromBatch to the state after batch ToBatch, of the
/// sequence that ends at <see cref="Sequence"/>.
/// </summary>
public sealed record ProofTask
{
    public required long Id { get; init; }
    public required ulong Sequence { get; init; }

    /// <summary>The last batch before the sequence (the sequence is (SequenceInit, Sequence]).</summary>
    public required ulong SequenceInit { get; init; }
    public required TaskKind Kind { get; init; }
    public required ulong FromBatch { get; init; }
    public required ulong ToBatch { get; init; }
    public long? Input1 { get; init; }
    public long? Input2 { get; init; }
    public TaskState State { get; init; }
    public int Attempts { get; init; }
    public ProverRef? Prover { get; init; }
    public string? JobId { get; init; }
    public DateTimeOffset? LeaseUntil { get; init; }
    public string? LastError { get; init; }

    /// <summary>Names of provers this task failed on (used to spot suspect inputs).</summary>
    public IReadOnlyList<string> FailedOn { get; init; } = [];

    /// <summary>Names of provers that made inputs now known to be bad; the task prefers other provers.</summary>
    public IReadOnlyList<string> AvoidProvers { get; init; } = [];

    public int BatchCount => checked((int)(ToBatch - FromBatch));

    public override string ToString() => $"{Kind} ({FromBatch},{ToBatch}] #{Id}";
}
