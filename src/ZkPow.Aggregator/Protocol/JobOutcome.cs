namespace ZkPow.Aggregator.Protocol;

/// <summary>How a job on a prover ended.</summary>
public enum JobOutcomeKind
{
    /// <summary>The proof is there.</summary>
    Completed,

    /// <summary>The prover computed and failed, refused the request, or sent an unusable proof.</summary>
    Failed,

    /// <summary>The job is gone (unknown job id, cancelled, the stream dropped, the prover stopped answering).</summary>
    Lost,

    /// <summary>The request is larger than the prover accepts; sending it again would not help.</summary>
    TooLarge,

    /// <summary>The job ran past its maximum time and was cancelled on the prover; another prover should do it.</summary>
    Expired,
}

/// <summary>The result of running (or resuming) a job on a prover. Expected failures are values, not exceptions.</summary>
public sealed record JobOutcome(JobOutcomeKind Kind, string? JobId, string? RecursiveProof, FinalProof? FinalProof, string? Error)
{
    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp at which the job request was written to the stream (0 if never).</summary>
    public long RequestWrittenAt { get; init; }

    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp at which the final answer of the job arrived (0 if none).</summary>
    public long AnsweredAt { get; init; }

    /// <summary>The id of the job request on the stream (empty if never sent).</summary>
    public string RequestId { get; init; } = "";

    public static JobOutcome Lost(string? jobId, string error) => new(JobOutcomeKind.Lost, jobId, null, null, error);

    public static JobOutcome Failed(string? jobId, string error) => new(JobOutcomeKind.Failed, jobId, null, null, error);
}
