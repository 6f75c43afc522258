using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Sender;

/// <summary>A proof ready for <c>verifyBatches</c>: the submission, its final proof, and the first block in which the
/// reveal could land (proof window open and predecessor verified), for the reveal-delay metric. <paramref name="BehindGasLimit"/>:
/// 0 for a reveal whose predecessor is verified; otherwise the predecessor's verification is our own reveal, signed and
/// in flight, and this reveal goes right behind it (the next nonces) with this fixed gas limit and no pre-flight call
/// (the call reverts until the predecessor is verified).</summary>
public sealed record ProofMessage(SubmissionRecord Record, FinalProofRecord Proof, ulong RevealableFrom, ulong BehindGasLimit = 0);
