using System.Text;
using Nethereum.Util;

namespace ZkPow.Devnet.Chain;

/// <summary>ABI encoding of call data (head/tail layout of <c>abi.encode</c>).</summary>
internal static class AbiEncoder
{
    /// <summary>The 4-byte selector of a signature such as <c>deposit()</c>.</summary>
    public static byte[] Selector(string signature) =>
        Sha3Keccack.Current.CalculateHash(Encoding.UTF8.GetBytes(signature))[..4];

    /// <summary>Call data: the selector of <paramref name="signature"/> followed by the encoded arguments.</summary>
    public static byte[] Call(string signature, params IReadOnlyList<AbiValue> arguments)
    {
        var selector = Selector(signature);
        var body = EncodeSequence(arguments);
        var data = new byte[4 + body.Length];
        selector.CopyTo(data, 0);
        body.CopyTo(data, 4);
        return data;
    }

    /// <summary>Encodes values as a tuple: static heads inline, dynamic values behind offsets into the tail.</summary>
    public static byte[] EncodeSequence(IReadOnlyList<AbiValue> values)
    {
        var headSize = values.Sum(v => v.IsDynamic ? 32 : v.Encoding.Length);
        using var head = new MemoryStream();
        using var tail = new MemoryStream();
        foreach (var value in values)
        {
            if (value.IsDynamic)
            {
                head.Write(AbiValue.Uint(headSize + tail.Length).Encoding);
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
}
