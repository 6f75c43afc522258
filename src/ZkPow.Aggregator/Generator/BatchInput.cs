namespace ZkPow.Aggregator.Generator;

/// <summary>The prover input of one batch: a serialized <c>aggregator.v1.InputProver</c>.</summary>
public sealed record BatchInput(ulong Number, byte[] ProverInput);
