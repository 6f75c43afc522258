namespace ZkPow.Devnet.Network;

/// <summary>A sequence for which a miner's mined successful <c>submitProofHash</c> or <c>verifyBatches</c> count is not
/// exactly one.</summary>
public sealed record DevnetSequenceTxCount(ulong FinalBatch, int SubmitProofHash, int VerifyBatches);
