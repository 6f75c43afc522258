namespace ZkPow.Aggregator.Chain;

/// <summary>The rollup's <c>chainID()</c> and <c>forkID()</c> (not the base chain's <c>eth_chainId</c>).</summary>
public readonly record struct RollupIdentity(ulong ChainId, ulong ForkId);
