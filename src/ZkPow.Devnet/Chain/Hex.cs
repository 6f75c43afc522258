using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace ZkPow.Devnet.Chain;

/// <summary>0x-hex conversions for JSON-RPC values.</summary>
internal static class Hex
{
    public static string Encode(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);

    public static byte[] Decode(string hex)
    {
        var digits = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex;
        return Convert.FromHexString(digits.Length % 2 == 0 ? digits : "0" + digits);
    }

    /// <summary>A JSON-RPC quantity: 0x-hex without leading zeros.</summary>
    public static string Quantity(BigInteger value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        if (value.IsZero)
        {
            return "0x0";
        }

        var hex = value.ToString("x", CultureInfo.InvariantCulture).TrimStart('0');
        return "0x" + hex;
    }

    public static BigInteger ParseQuantity(string hex)
    {
        var digits = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex;
        return digits.Length == 0 ? BigInteger.Zero : BigInteger.Parse("0" + digits, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    public static BigInteger ParseQuantity(JsonElement element) => ParseQuantity(element.GetString() ?? "0x0");
}
