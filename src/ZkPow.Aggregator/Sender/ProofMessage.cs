using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Sender;

/// <summary>A proof ready for <c>verifyBatches</c>: the submission, its final proof, and the first block in which the
/// reveal could land (proof window open and predecessor verified), for the reveal-delay metric.</summary>
public sealed record ProofMessage(SubmissionRecord Record, FinalProofRecord Proof, ulong RevealableFrom);
