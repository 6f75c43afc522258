using System.Numerics;
using System.Text;
using Nethereum.Util;

namespace ZkPow.Aggregator.Chain;

/// <summary>
/// The ABI encoding of the aggregator and the devnet: call data and <c>abi.encode</c> (head/tail layout: static words,
/// dynamic <c>bytes</c>, tuples and arrays, see <see cref="AbiArg"/>), selectors and event topics. Read results with
/// <see cref="AbiWords"/>, reverts with <see cref="ChainRevert"/>.
/// </summary>
internal static class Abi
{
    private static readonly BigInteger MaxUint256 = (BigInteger.One << 256) - 1;

    public static byte[] Keccak(ReadOnlySpan<byte> data) => Sha3Keccack.Current.CalculateHash(data.ToArray());

    /// <summary>The 4-byte selector of a signature such as <c>settle(address)</c>.</summary>
    public static byte[] Selector(string signature) => Keccak(Encoding.ASCII.GetBytes(signature))[..4];

    /// <summary>The first topic of an event, as lower-case 0x-hex.</summary>
    public static string Topic(string signature) => HexData.Encode(Keccak(Encoding.ASCII.GetBytes(signature)));

    /// <summary>Selector followed by the encoded arguments.</summary>
    public static byte[] Call(string signature, params ReadOnlySpan<AbiArg> args)
    {
        var body = Encode(args);
        var data = new byte[4 + body.Length];
        Selector(signature).CopyTo(data, 0);
        body.CopyTo(data, 4);
        return data;
    }

    /// <summary>Encodes values as a tuple (as <c>abi.encode</c>, e.g. constructor arguments): static heads inline,
    /// dynamic values behind offsets into the tail.</summary>
    public static byte[] Encode(params ReadOnlySpan<AbiArg> values)
    {
        var headSize = 0;
        foreach (var value in values)
        {
            headSize += value.IsDynamic ? 32 : value.Encoding.Length;
        }

        using var head = new MemoryStream();
        using var tail = new MemoryStream();
        foreach (var value in values)
        {
            if (value.IsDynamic)
            {
                head.Write(Word(headSize + tail.Length));
                tail.Write(value.Encoding);
            }
            else
            {
                head.Write(value.Encoding);
            }
        }

        tail.Position = 0;
        tail.CopyTo(head);
        return head.ToArray();
    }

    public static byte[] Word(BigInteger value)
    {
        if (value.Sign < 0 || value > MaxUint256)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "not a uint256");
        }

        var word = new byte[32];
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        bytes.CopyTo(word, 32 - bytes.Length);
        return word;
    }
}
