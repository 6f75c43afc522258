using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Devnet.Proof;

/// <summary>
/// The devnet proof arithmetic (devnet-proof.md): the state transition, the SNARK input and the proof hash.
/// Every word is 32 bytes, every address 20 bytes; inputs of the wrong length throw <see cref="ArgumentException"/>.
/// </summary>
public static class DevnetRules
{
    /// <summary>The BN254 scalar field modulus that the SNARK input is reduced by.</summary>
    public static readonly BigInteger Rfield =
        BigInteger.Parse("21888242871839275222246405745257275088548364400416034343698204186575808495617",
            System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Length of the SNARK input preimage: 20 + 32 + 32 + 8 + 8 + 8 + 32 + 32 + 32 + 8.</summary>
    public const int SnarkInputPreimageLength = 212;

    private const ulong LimbMask = 0x7fffffffffffffffUL;
    private static readonly byte[] LocalExitRootDomain = Encoding.UTF8.GetBytes("zkpow-devnet/ler");

    /// <summary>keccak256 of the given bytes.</summary>
    public static byte[] Keccak256(ReadOnlySpan<byte> data) => Abi.Keccak(data);

    /// <summary>keccak256 of the UTF-8 bytes of a string.</summary>
    public static byte[] Keccak256(string text) => Abi.Keccak(Encoding.UTF8.GetBytes(text));

    /// <summary>The final proof tag: keccak256("zkpow-devnet/final-proof/v1").</summary>
    public static byte[] FinalProofTag() => Keccak256("zkpow-devnet/final-proof/v1");

    /// <summary>Clears the top bit of each of the four big-endian 64-bit limbs (returns a new array).</summary>
    public static byte[] Mask(ReadOnlySpan<byte> word)
    {
        RequireWord(word, nameof(word));
        var result = word.ToArray();
        for (var limb = 0; limb < 4; limb++)
        {
            var slice = result.AsSpan(limb * 8, 8);
            BinaryPrimitives.WriteUInt64BigEndian(slice, BinaryPrimitives.ReadUInt64BigEndian(slice) & LimbMask);
        }

        return result;
    }

    /// <summary>stateRoot_0 = mask(keccak256("zkpow-devnet/genesis")).</summary>
    public static byte[] GenesisStateRoot() => Mask(Keccak256("zkpow-devnet/genesis"));

    /// <summary>accInputHash_0 = 32 zero bytes.</summary>
    public static byte[] GenesisAccInputHash() => new byte[32];

    /// <summary>
    /// stateRoot_n = mask(keccak256(packed(stateRoot_{n-1}, txHash_n, globalExitRoot_n, uint64 timestamp_n, address coinbase))).
    /// </summary>
    public static byte[] NextStateRoot(ReadOnlySpan<byte> oldStateRoot, ReadOnlySpan<byte> txHash,
        ReadOnlySpan<byte> globalExitRoot, ulong timestamp, ReadOnlySpan<byte> coinbase) =>
        Mask(Keccak256(PackTransition(oldStateRoot, txHash, globalExitRoot, timestamp, coinbase)));

    /// <summary>
    /// accInputHash_n = keccak256(packed(accInputHash_{n-1}, txHash_n, globalExitRoot_n, uint64 timestamp_n, address coinbase)).
    /// </summary>
    public static byte[] NextAccInputHash(ReadOnlySpan<byte> oldAccInputHash, ReadOnlySpan<byte> txHash,
        ReadOnlySpan<byte> globalExitRoot, ulong timestamp, ReadOnlySpan<byte> coinbase) =>
        Keccak256(PackTransition(oldAccInputHash, txHash, globalExitRoot, timestamp, coinbase));

    /// <summary>localExitRoot_n = keccak256(packed("zkpow-devnet/ler", stateRoot_n)).</summary>
    public static byte[] LocalExitRoot(ReadOnlySpan<byte> stateRoot)
    {
        RequireWord(stateRoot, nameof(stateRoot));
        var packed = new byte[LocalExitRootDomain.Length + 32];
        LocalExitRootDomain.CopyTo(packed, 0);
        stateRoot.CopyTo(packed.AsSpan(LocalExitRootDomain.Length));
        return Keccak256(packed);
    }

    /// <summary>
    /// packed(address sender, oldStateRoot, oldAccInputHash, uint64 initNumBatch, uint64 chainID, uint64 forkID,
    /// newStateRoot, newAccInputHash, newLocalExitRoot, uint64 finalNewBatch): 212 bytes.
    /// </summary>
    public static byte[] SnarkInputPreimage(ReadOnlySpan<byte> sender, ReadOnlySpan<byte> oldStateRoot,
        ReadOnlySpan<byte> oldAccInputHash, ulong initNumBatch, ulong chainId, ulong forkId,
        ReadOnlySpan<byte> newStateRoot, ReadOnlySpan<byte> newAccInputHash, ReadOnlySpan<byte> newLocalExitRoot,
        ulong finalNewBatch)
    {
        RequireAddress(sender, nameof(sender));
        var buffer = new byte[SnarkInputPreimageLength];
        var writer = new PackedWriter(buffer);
        writer.Bytes(sender);
        writer.Word(oldStateRoot, nameof(oldStateRoot));
        writer.Word(oldAccInputHash, nameof(oldAccInputHash));
        writer.UInt64(initNumBatch);
        writer.UInt64(chainId);
        writer.UInt64(forkId);
        writer.Word(newStateRoot, nameof(newStateRoot));
        writer.Word(newAccInputHash, nameof(newAccInputHash));
        writer.Word(newLocalExitRoot, nameof(newLocalExitRoot));
        writer.UInt64(finalNewBatch);
        return buffer;
    }

    /// <summary>uint256(sha256(preimage)) % RFIELD.</summary>
    public static BigInteger SnarkInput(ReadOnlySpan<byte> preimage)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(preimage, digest);
        return new BigInteger(digest, isUnsigned: true, isBigEndian: true) % Rfield;
    }

    /// <summary>The SNARK input for a final proof's fields and the given sender.</summary>
    public static BigInteger SnarkInput(DevnetFinalProof proof, ReadOnlySpan<byte> sender)
    {
        ArgumentNullException.ThrowIfNull(proof);
        return SnarkInput(SnarkInputPreimage(sender, proof.OldStateRoot, proof.OldAccInputHash, proof.InitNumBatch,
            proof.ChainId, proof.ForkId, proof.NewStateRoot, proof.NewAccInputHash, proof.NewLocalExitRoot,
            proof.FinalNewBatch));
    }

    /// <summary>The proof hash bound to a sender: keccak256(packed(keccak256(proof), address sender)).</summary>
    public static byte[] ProofHash(ReadOnlySpan<byte> proof, ReadOnlySpan<byte> sender)
    {
        RequireAddress(sender, nameof(sender));
        var packed = new byte[52];
        Keccak256(proof).CopyTo(packed, 0);
        sender.CopyTo(packed.AsSpan(32));
        return Keccak256(packed);
    }

    private static byte[] PackTransition(ReadOnlySpan<byte> previous, ReadOnlySpan<byte> txHash,
        ReadOnlySpan<byte> globalExitRoot, ulong timestamp, ReadOnlySpan<byte> coinbase)
    {
        RequireAddress(coinbase, nameof(coinbase));
        var buffer = new byte[32 + 32 + 32 + 8 + 20];
        var writer = new PackedWriter(buffer);
        writer.Word(previous, nameof(previous));
        writer.Word(txHash, nameof(txHash));
        writer.Word(globalExitRoot, nameof(globalExitRoot));
        writer.UInt64(timestamp);
        writer.Bytes(coinbase);
        return buffer;
    }

    internal static void RequireWord(ReadOnlySpan<byte> value, string name)
    {
        if (value.Length != 32)
        {
            throw new ArgumentException($"expected 32 bytes, got {value.Length}", name);
        }
    }

    internal static void RequireAddress(ReadOnlySpan<byte> value, string name)
    {
        if (value.Length != 20)
        {
            throw new ArgumentException($"expected a 20-byte address, got {value.Length} bytes", name);
        }
    }

    private ref struct PackedWriter(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;
        private int _position;

        public void Bytes(ReadOnlySpan<byte> value)
        {
            value.CopyTo(_buffer[_position..]);
            _position += value.Length;
        }

        public void Word(ReadOnlySpan<byte> value, string name)
        {
            RequireWord(value, name);
            Bytes(value);
        }

        public void UInt64(ulong value)
        {
            BinaryPrimitives.WriteUInt64BigEndian(_buffer[_position..], value);
            _position += 8;
        }
    }
}
