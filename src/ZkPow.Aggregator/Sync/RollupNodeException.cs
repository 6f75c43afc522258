namespace ZkPow.Aggregator.Sync;

/// <summary>The rollup node answered something that is not a valid <c>zkevm_</c> answer (garbage, a wrong batch, a missing field).</summary>
public sealed class RollupNodeException(string message, Exception? inner = null) : Exception(message, inner);
