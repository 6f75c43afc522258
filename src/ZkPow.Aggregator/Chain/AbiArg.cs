using System.Numerics;

namespace ZkPow.Aggregator.Chain;

/// <summary>One argument of <see cref="Abi.Call"/>: a static 32-byte word, or a dynamic <c>bytes</c> value.</summary>
internal readonly struct AbiArg
{
    private AbiArg(byte[] word, byte[]? dynamic)
    {
        Static = word;
        Dynamic = dynamic;
    }

    public byte[] Static { get; }

    public byte[]? Dynamic { get; }

    public static AbiArg Uint(BigInteger value) => new(Abi.Word(value), null);

    public static AbiArg Address(string address)
    {
        var bytes = HexData.Decode(HexData.NormalizeAddress(address));
        var word = new byte[32];
        bytes.CopyTo(word, 12);
        return new AbiArg(word, null);
    }

    public static AbiArg Bytes32(ReadOnlySpan<byte> value) =>
        value.Length == 32 ? new AbiArg(value.ToArray(), null) : throw new ArgumentException("not 32 bytes", nameof(value));

    public static AbiArg Bytes(ReadOnlySpan<byte> value) => new([], value.ToArray());
}
