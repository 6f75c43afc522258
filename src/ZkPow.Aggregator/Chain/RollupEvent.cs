namespace ZkPow.Aggregator.Chain;

/// <summary>An event of the rollup contract, with where it was logged.</summary>
public abstract record RollupEvent(ulong BlockNumber, string BlockHash, string TransactionHash, int LogIndex);
