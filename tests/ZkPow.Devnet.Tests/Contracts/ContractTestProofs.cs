using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;

namespace ZkPow.Devnet.Tests.Contracts;

/// <summary>The devnet proof arithmetic of devnet-proof.md, written test-side for the contract tests.</summary>
internal static class ContractTestProofs
{
    public static readonly BigInteger RField =
        BigInteger.Parse("21888242871839275222246405745257275088548364400416034343698204186575808495617", System.Globalization.CultureInfo.InvariantCulture);

    public static byte[] Keccak(params byte[][] parts) => Abi.Keccak(Concat(parts));

    public static byte[] Mask(byte[] value)
    {
        var masked = (byte[])value.Clone();
        for (var limb = 0; limb < 4; limb++)
        {
            masked[limb * 8] &= 0x7f;
        }

        return masked;
    }

    public static byte[] GenesisStateRoot => Mask(Keccak(Encoding.UTF8.GetBytes("zkpow-devnet/genesis")));

    public static byte[] FinalProofTag => Keccak(Encoding.UTF8.GetBytes("zkpow-devnet/final-proof/v1"));

    public static byte[] BatchDigest(DevBatch batch, string l2Coinbase) =>
        Concat(Keccak(batch.Transactions), batch.GlobalExitRoot, U64(batch.Timestamp), HexData.Decode(l2Coinbase));

    public static byte[] NextStateRoot(byte[] stateRoot, DevBatch batch, string l2Coinbase) =>
        Mask(Keccak(stateRoot, BatchDigest(batch, l2Coinbase)));

    public static byte[] NextAccInputHash(byte[] accInputHash, DevBatch batch, string l2Coinbase) =>
        Keccak(accInputHash, BatchDigest(batch, l2Coinbase));

    public static byte[] LocalExitRoot(byte[] stateRoot) => Keccak(Encoding.UTF8.GetBytes("zkpow-devnet/ler"), stateRoot);

    public static byte[] SnarkInputPreimage(string sender, TestSequence s, ulong chainId = 1001, ulong forkId = 6) =>
        Concat(
            HexData.Decode(sender),
            s.OldStateRoot,
            s.OldAccInputHash,
            U64(s.InitNumBatch),
            U64(chainId),
            U64(forkId),
            s.NewStateRoot,
            s.NewAccInputHash,
            s.NewLocalExitRoot,
            U64(s.FinalNewBatch));

    public static BigInteger SnarkInput(byte[] preimage) =>
        new BigInteger(SHA256.HashData(preimage), isUnsigned: true, isBigEndian: true) % RField;

    /// <summary>The devnet final proof: abi.encode of the claim (devnet-proof.md).</summary>
    public static byte[] FinalProof(string aggregator, TestSequence s, ulong chainId = 1001, ulong forkId = 6) =>
        Abi.Encode(
        [
            AbiArg.Bytes32(FinalProofTag),
            AbiArg.Address(aggregator),
            AbiArg.Uint(chainId),
            AbiArg.Uint(forkId),
            AbiArg.Uint(s.InitNumBatch),
            AbiArg.Uint(s.FinalNewBatch),
            AbiArg.Bytes32(s.OldStateRoot),
            AbiArg.Bytes32(s.OldAccInputHash),
            AbiArg.Bytes32(s.NewStateRoot),
            AbiArg.Bytes32(s.NewAccInputHash),
            AbiArg.Bytes32(s.NewLocalExitRoot),
            AbiArg.Address(s.L2Coinbase),
            AbiArg.Array([.. s.Batches.Select(b => AbiArg.Bytes32(Keccak(b.Transactions)))]),
            AbiArg.Array([.. s.Batches.Select(b => AbiArg.Bytes32(b.GlobalExitRoot))]),
            AbiArg.Array([.. s.Batches.Select(b => AbiArg.Uint(b.Timestamp))]),
        ]);

    public static byte[] ProofHash(byte[] proof, string sender) => Keccak(Keccak(proof), HexData.Decode(sender));

    public static byte[] U64(ulong value)
    {
        var bytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return bytes;
    }

    public static byte[] Concat(params byte[][] parts)
    {
        var result = new byte[parts.Sum(p => p.Length)];
        var offset = 0;
        foreach (var part in parts)
        {
            part.CopyTo(result, offset);
            offset += part.Length;
        }

        return result;
    }
}
