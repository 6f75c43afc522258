namespace ZkPow.Aggregator.Generator;

/// <summary>One job request handed to a prover, for benchmarks (kept when <see cref="GeneratorMetrics.KeepDispatchRecords"/>
/// is set).</summary>
/// <param name="Task">The task the request is for.</param>
/// <param name="Prover">The prover's name.</param>
/// <param name="RequestId">The id of the Gen* request on the prover's stream.</param>
/// <param name="ReadyAt"><see cref="System.Diagnostics.Stopwatch"/> timestamp at which the task became ready.</param>
/// <param name="WrittenAt"><see cref="System.Diagnostics.Stopwatch"/> timestamp at which the request was written.</param>
/// <param name="AnsweredAt"><see cref="System.Diagnostics.Stopwatch"/> timestamp at which the job's proof arrived (0 if it did not).</param>
public sealed record DispatchRecord(ProofTask Task, string Prover, string RequestId, long ReadyAt, long WrittenAt, long AnsweredAt);
