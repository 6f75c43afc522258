using System.Numerics;

namespace ZkPow.Devnet.Chain;

/// <summary>Reads ABI-encoded return data (static words by index, and dynamic values behind offsets).</summary>
internal sealed class AbiReader(byte[] data)
{
    public byte[] Data { get; } = data;

    public BigInteger Uint(int index) => UintAt(index * 32);

    public ulong UInt64(int index) => (ulong)Uint(index);

    public bool Bool(int index) => !Uint(index).IsZero;

    public string Address(int index) => Hex.Encode(Data.AsSpan(index * 32 + 12, 20));

    public byte[] Bytes32(int index) => Data.AsSpan(index * 32, 32).ToArray();

    /// <summary>The dynamic <c>bytes</c> whose offset is at head word <paramref name="index"/>.</summary>
    public byte[] Bytes(int index)
    {
        var offset = (int)Uint(index);
        var length = (int)UintAt(offset);
        return Data.AsSpan(offset + 32, length).ToArray();
    }

    /// <summary>The dynamic array of static words whose offset is at head word <paramref name="index"/>.</summary>
    public IReadOnlyList<BigInteger> UintArray(int index)
    {
        var offset = (int)Uint(index);
        var length = (int)UintAt(offset);
        var values = new BigInteger[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = UintAt(offset + 32 + i * 32);
        }

        return values;
    }

    private BigInteger UintAt(int offset) =>
        new(Data.AsSpan(offset, 32), isUnsigned: true, isBigEndian: true);
}
