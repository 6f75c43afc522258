namespace ZkPow.Aggregator.Protocol;

/// <summary>The prover session ended (stream dropped, protocol violation, no answer) while a request was outstanding.</summary>
public sealed class ProverSessionClosedException(string reason) : Exception(reason);
