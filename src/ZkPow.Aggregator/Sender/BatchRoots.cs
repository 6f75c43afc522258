namespace ZkPow.Aggregator.Sender;

/// <summary>Roots after a batch (32 bytes each).</summary>
public sealed record BatchRoots(byte[] StateRoot, byte[] LocalExitRoot);
