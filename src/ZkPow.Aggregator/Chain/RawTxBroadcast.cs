namespace ZkPow.Aggregator.Chain;

/// <summary>How an <c>eth_sendRawTransaction</c> ended: a node took it, or a node has this very transaction already
/// (it answered "already known", or "nonce too low" / a lost reply and the lookup by hash found it).</summary>
public enum RawTxBroadcast
{
    Accepted,
    AlreadyKnown,
}
