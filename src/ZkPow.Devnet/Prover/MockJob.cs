namespace ZkPow.Devnet.Prover;

/// <summary>One accepted job. Mutated only under the queue's lock.</summary>
internal sealed class MockJob(string id, MockProofKind kind, TimeSpan latency, DateTimeOffset acceptedAt, MockJobOutcome outcome)
{
    public string Id { get; } = id;

    public MockProofKind Kind { get; } = kind;

    public TimeSpan Latency { get; } = latency;

    public DateTimeOffset AcceptedAt { get; } = acceptedAt;

    public MockJobOutcome Outcome { get; } = outcome;

    public MockJobState State { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset FinishedAt { get; set; }
}
