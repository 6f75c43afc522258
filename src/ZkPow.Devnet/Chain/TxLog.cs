namespace ZkPow.Devnet.Chain;

/// <summary>One event log of a receipt.</summary>
internal sealed record TxLog(string Address, IReadOnlyList<string> Topics, byte[] Data);
