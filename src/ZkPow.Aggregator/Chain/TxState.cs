namespace ZkPow.Aggregator.Chain;

/// <summary>
/// The life of a managed transaction: Created → Signed (nonce assigned, raw tx stored before any broadcast) → Sent
/// (the node accepted it) → Mined → Confirmed (at the configured depth); or Failed (reverted in the pre-flight, with
/// no nonce used, or reverted on chain). A reorg that drops a mined tx takes it from Mined back to Sent.
/// The numbers are stored: never renumber.
/// </summary>
public enum TxState
{
    Created = 0,
    Signed = 1,
    Sent = 2,
    Mined = 3,
    Confirmed = 4,
    Failed = 5,
}
