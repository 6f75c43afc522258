using System.Numerics;

namespace ZkPow.Aggregator.Chain;

/// <summary>The verifier's answer for a proof (through <c>eth_call</c>), the SNARK input it was checked against, or the
/// revert that prevented the check (for example <c>NewAccInputHashDoesNotExist</c>).</summary>
public sealed record ProofCheck(bool Valid, BigInteger SnarkInput, ChainRevert? Revert);
