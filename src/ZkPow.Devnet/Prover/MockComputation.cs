namespace ZkPow.Devnet.Prover;

/// <summary>A computed job outcome and the batch range it covers (null when the request was unreadable).</summary>
internal readonly record struct MockComputation(MockJobOutcome Outcome, ulong? OldBatch, ulong? NewBatch);
