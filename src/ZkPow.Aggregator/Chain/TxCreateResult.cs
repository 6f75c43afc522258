namespace ZkPow.Aggregator.Chain;

/// <summary>The stored transaction for a key, and whether this call created it.</summary>
public sealed record TxCreateResult(TxRecord Record, bool Created);
