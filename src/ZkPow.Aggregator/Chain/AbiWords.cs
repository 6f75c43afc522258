using System.Numerics;

namespace ZkPow.Aggregator.Chain;

/// <summary>Reads ABI-encoded return data or event data: static words by index, dynamic <c>bytes</c> behind offsets.</summary>
internal sealed class AbiWords(byte[] data)
{
    public byte[] Data { get; } = data;

    public int Count => Data.Length / 32;

    public BigInteger Uint(int index) => UintAt(index * 32);

    public ulong UInt64(int index) => checked((ulong)Uint(index));

    public bool Bool(int index) => !Uint(index).IsZero;

    public string Address(int index) => HexData.Encode(Slice(index * 32 + 12, 20));

    public byte[] Bytes32(int index) => Slice(index * 32, 32).ToArray();

    public byte[] Bytes(int index)
    {
        var offset = checked((int)Uint(index));
        var length = checked((int)UintAt(offset));
        return Slice(offset + 32, length).ToArray();
    }

    /// <summary>The dynamic array of static words whose offset is at head word <paramref name="index"/>.</summary>
    public IReadOnlyList<BigInteger> UintArray(int index)
    {
        var offset = checked((int)Uint(index));
        var length = checked((int)UintAt(offset));
        var values = new BigInteger[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = UintAt(offset + 32 + i * 32);
        }

        return values;
    }

    private BigInteger UintAt(int offset) => new(Slice(offset, 32), isUnsigned: true, isBigEndian: true);

    private ReadOnlySpan<byte> Slice(int offset, int length) =>
        offset >= 0 && length >= 0 && offset + length <= Data.Length
            ? Data.AsSpan(offset, length)
            : throw new FormatException($"ABI data of {Data.Length} bytes has no {length} bytes at offset {offset}");
}
