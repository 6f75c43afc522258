namespace ZkPow.Aggregator.Chain;

/// <summary>
/// The answer to a submission: the transaction's handle and, when the pre-flight <c>eth_call</c> reverted, the decoded
/// reason (<see cref="Rejected"/>; nothing was signed or sent and no nonce was used).
/// </summary>
public sealed record TxSubmission(TxHandle Handle, ChainRevert? Rejected)
{
    public bool Accepted => Rejected is null;
}
