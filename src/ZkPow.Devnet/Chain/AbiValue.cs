using System.Numerics;

namespace ZkPow.Devnet.Chain;

/// <summary>
/// One ABI-encoded value (Solidity <c>abi.encode</c> rules): a static value is its 32-byte head; a dynamic value is
/// its tail encoding, placed behind an offset word by <see cref="AbiEncoder"/>.
/// </summary>
internal sealed class AbiValue
{
    private static readonly BigInteger MaxUint256 = (BigInteger.One << 256) - 1;

    private AbiValue(bool isDynamic, byte[] encoding)
    {
        IsDynamic = isDynamic;
        Encoding = encoding;
    }

    public bool IsDynamic { get; }

    public byte[] Encoding { get; }

    public static AbiValue Uint(BigInteger value)
    {
        if (value.Sign < 0 || value > MaxUint256)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "not a uint256");
        }

        var word = new byte[32];
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        bytes.CopyTo(word, 32 - bytes.Length);
        return new AbiValue(false, word);
    }

    public static AbiValue Bool(bool value) => Uint(value ? BigInteger.One : BigInteger.Zero);

    public static AbiValue Address(string address)
    {
        var bytes = Hex.Decode(address);
        if (bytes.Length != 20)
        {
            throw new ArgumentException($"not a 20-byte address: {address}", nameof(address));
        }

        var word = new byte[32];
        bytes.CopyTo(word, 12);
        return new AbiValue(false, word);
    }

    public static AbiValue Bytes32(ReadOnlySpan<byte> value)
    {
        if (value.Length != 32)
        {
            throw new ArgumentException("not 32 bytes", nameof(value));
        }

        return new AbiValue(false, value.ToArray());
    }

    /// <summary>A dynamic <c>bytes</c> value.</summary>
    public static AbiValue Bytes(ReadOnlySpan<byte> value)
    {
        var padded = (value.Length + 31) / 32 * 32;
        var encoding = new byte[32 + padded];
        Uint(value.Length).Encoding.CopyTo(encoding, 0);
        value.CopyTo(encoding.AsSpan(32));
        return new AbiValue(true, encoding);
    }

    /// <summary>A tuple (struct): dynamic iff one of its members is.</summary>
    public static AbiValue Tuple(params IReadOnlyList<AbiValue> members) =>
        new(members.Any(m => m.IsDynamic), AbiEncoder.EncodeSequence(members));

    /// <summary>A dynamic array <c>T[]</c>.</summary>
    public static AbiValue Array(IReadOnlyList<AbiValue> elements)
    {
        var body = AbiEncoder.EncodeSequence(elements);
        var encoding = new byte[32 + body.Length];
        Uint(elements.Count).Encoding.CopyTo(encoding, 0);
        body.CopyTo(encoding, 32);
        return new AbiValue(true, encoding);
    }
}
