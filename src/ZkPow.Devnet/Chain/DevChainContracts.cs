namespace ZkPow.Devnet.Chain;

/// <summary>The addresses of the deployed contracts.</summary>
/// <param name="Rollup">The rollup contract (ZkPowRollup); also the reward pool.</param>
/// <param name="MinerDeposit">The stake contract.</param>
/// <param name="Verifier">The devnet verifier (IVerifierRollup).</param>
internal sealed record DevChainContracts(string Rollup, string MinerDeposit, string Verifier);
