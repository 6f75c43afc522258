namespace ZkPow.Aggregator.Chain;

/// <summary>One signed version of a transaction.</summary>
public sealed record SignedTx(ulong Nonce, ulong GasLimit, TxFees Fees, byte[] Raw, string Hash);
