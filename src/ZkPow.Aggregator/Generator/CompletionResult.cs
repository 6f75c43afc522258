namespace ZkPow.Aggregator.Generator;

/// <summary>Outcome of storing a proof: whether it was accepted (the task was still ours) and the task it unlocked.</summary>
public readonly record struct CompletionResult(bool Accepted, ProofTask? Unlocked);
