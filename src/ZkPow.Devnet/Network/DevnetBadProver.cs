namespace ZkPow.Devnet.Network;

/// <summary>A prover the devnet ran as a bad one (<c>--bad-provers</c>), and how it misbehaved.</summary>
public sealed record DevnetBadProver(string Name, string Behaviour);
