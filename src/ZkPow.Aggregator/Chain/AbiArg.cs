using System.Numerics;

namespace ZkPow.Aggregator.Chain;

/// <summary>
/// One ABI-encoded value (Solidity <c>abi.encode</c> rules) for <see cref="Abi.Call"/> and <see cref="Abi.Encode"/>:
/// a static value is its head (one 32-byte word, or several for a static tuple); a dynamic value is its tail encoding,
/// placed behind an offset word.
/// </summary>
internal readonly struct AbiArg
{
    private AbiArg(bool isDynamic, byte[] encoding)
    {
        IsDynamic = isDynamic;
        Encoding = encoding;
    }

    public bool IsDynamic { get; }

    public byte[] Encoding { get; }

    public static AbiArg Uint(BigInteger value) => new(false, Abi.Word(value));

    public static AbiArg Bool(bool value) => Uint(value ? BigInteger.One : BigInteger.Zero);

    public static AbiArg Address(string address)
    {
        var bytes = HexData.Decode(HexData.NormalizeAddress(address));
        var word = new byte[32];
        bytes.CopyTo(word, 12);
        return new AbiArg(false, word);
    }

    public static AbiArg Bytes32(ReadOnlySpan<byte> value) =>
        value.Length == 32 ? new AbiArg(false, value.ToArray()) : throw new ArgumentException("not 32 bytes", nameof(value));

    /// <summary>A dynamic <c>bytes</c> value.</summary>
    public static AbiArg Bytes(ReadOnlySpan<byte> value)
    {
        var padded = (value.Length + 31) / 32 * 32;
        var encoding = new byte[32 + padded];
        Abi.Word(value.Length).CopyTo(encoding, 0);
        value.CopyTo(encoding.AsSpan(32));
        return new AbiArg(true, encoding);
    }

    /// <summary>A tuple (struct): dynamic iff one of its members is.</summary>
    public static AbiArg Tuple(params ReadOnlySpan<AbiArg> members)
    {
        var dynamic = false;
        foreach (var member in members)
        {
            dynamic |= member.IsDynamic;
        }

        return new AbiArg(dynamic, Abi.Encode(members));
    }

    /// <summary>A dynamic array <c>T[]</c>.</summary>
    public static AbiArg Array(params ReadOnlySpan<AbiArg> elements)
    {
        var body = Abi.Encode(elements);
        var encoding = new byte[32 + body.Length];
        Abi.Word(elements.Length).CopyTo(encoding, 0);
        body.CopyTo(encoding, 32);
        return new AbiArg(true, encoding);
    }
}
