namespace ZkPow.Aggregator.Chain;

/// <summary>
/// The answer to a submission: the transaction's handle and, when the pre-flight <c>eth_call</c> reverted, the decoded
/// reason (<see cref="Rejected"/>; nothing was signed or sent and no nonce was used). When the node could not be
/// reached, the transaction is accepted as Created and pre-flighted later by the loop: a revert then ends
/// <see cref="TxHandle.Completion"/> as Failed with the same decoded reason.
/// </summary>
public sealed record TxSubmission(TxHandle Handle, ChainRevert? Rejected)
{
    public bool Accepted => Rejected is null;
}
