using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Sender;

/// <summary>A hash commitment being watched: its tx (null when resumed from the chain alone) and the first block at
/// which we saw its predecessor verified (null until then).</summary>
public sealed record MonitItem(TxHandle? HashTx, ulong? PredecessorVerifiedAt);
