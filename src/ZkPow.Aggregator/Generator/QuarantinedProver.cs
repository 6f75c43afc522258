namespace ZkPow.Aggregator.Generator;

/// <summary>A prover that gets no work until <paramref name="Until"/> because it failed
/// <paramref name="Failures"/> jobs in a row (the last with <paramref name="LastError"/>).</summary>
public sealed record QuarantinedProver(string Name, string Principal, int Failures, DateTimeOffset Until, string LastError);
