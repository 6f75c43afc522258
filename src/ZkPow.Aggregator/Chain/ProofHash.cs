using System.Numerics;
using System.Security.Cryptography;

namespace ZkPow.Aggregator.Chain;

/// <summary>The contract's hashing of proofs.</summary>
public static class ProofHash
{
    /// <summary>The BN254 scalar field: SNARK inputs are reduced modulo it.</summary>
    public static readonly BigInteger Rfield =
        BigInteger.Parse("21888242871839275222246405745257275088548364400416034343698204186575808495617", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary><c>keccak256(abi.encodePacked(keccak256(proof), sender))</c>: the commitment only <paramref name="sender"/> can reveal.</summary>
    public static byte[] Compute(ReadOnlySpan<byte> proof, string sender)
    {
        var preimage = new byte[52];
        Abi.Keccak(proof).CopyTo(preimage, 0);
        HexData.Decode(HexData.NormalizeAddress(sender)).CopyTo(preimage, 32);
        return Abi.Keccak(preimage);
    }

    /// <summary>The SNARK input: <c>uint256(sha256(snarkBytes)) % RFIELD</c>.</summary>
    public static BigInteger SnarkInput(ReadOnlySpan<byte> snarkBytes) =>
        new BigInteger(SHA256.HashData(snarkBytes), isUnsigned: true, isBigEndian: true) % Rfield;
}
