namespace ZkPow.Aggregator.Chain;

/// <summary>The base-chain node could not be reached or did not answer in time (a transport failure, not an error answer).</summary>
public sealed class ChainUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
