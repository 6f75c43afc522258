namespace ZkPow.Devnet.Prover;

/// <summary>
/// The timing of one accepted job, kept when <see cref="MockProverOptions.RecordTimings"/> is set.
/// </summary>
/// <param name="RequestId">The id of the aggregator's Gen* request.</param>
/// <param name="Kind">The kind of proof.</param>
/// <param name="Work">The time the job takes on a prover of speed 1 (the drawn latency, jitter included).</param>
/// <param name="Duration">The time it takes on this prover (<paramref name="Work"/> divided by its speed).</param>
/// <param name="ReceivedAt">When the request was received.</param>
/// <param name="IdleSince">When the prover's previous job ended, if the prover was idle when the request came (null if
/// it was still computing or had no previous job).</param>
public sealed record MockJobTiming(string RequestId, MockProofKind Kind, TimeSpan Work, TimeSpan Duration, DateTimeOffset ReceivedAt,
    DateTimeOffset? IdleSince);
