using System.Numerics;
using System.Text;
using Nethereum.Util;

namespace ZkPow.Aggregator.Chain;

/// <summary>
/// The ABI encoding the aggregator needs: call data for functions whose arguments are static words and at most a few
/// dynamic <c>bytes</c> (head/tail layout of <c>abi.encode</c>), selectors and event topics.
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
        using var data = new MemoryStream();
        data.Write(Selector(signature));
        var tails = new List<byte[]>();
        var headSize = args.Length * 32;
        var tailOffset = headSize;
        foreach (var arg in args)
        {
            if (arg.Dynamic is { } bytes)
            {
                data.Write(Word(tailOffset));
                var padded = (bytes.Length + 31) / 32 * 32;
                var tail = new byte[32 + padded];
                Word(bytes.Length).CopyTo(tail, 0);
                bytes.CopyTo(tail, 32);
                tails.Add(tail);
                tailOffset += tail.Length;
            }
            else
            {
                data.Write(arg.Static);
            }
        }

        foreach (var tail in tails)
        {
            data.Write(tail);
        }

        return data.ToArray();
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
