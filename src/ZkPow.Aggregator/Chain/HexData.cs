using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace ZkPow.Aggregator.Chain;

/// <summary>0x-hex conversions for JSON-RPC values.</summary>
internal static class HexData
{
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

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
        return value.IsZero ? "0x0" : "0x" + value.ToString("x", CultureInfo.InvariantCulture).TrimStart('0');
    }

    public static BigInteger ParseQuantity(string? hex)
    {
        if (string.IsNullOrEmpty(hex))
        {
            return BigInteger.Zero;
        }

        var digits = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex;
        return digits.Length == 0 ? BigInteger.Zero : BigInteger.Parse("0" + digits, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    public static BigInteger ParseQuantity(JsonElement element) => ParseQuantity(element.GetString());

    public static ulong ParseUInt64(JsonElement element) => checked((ulong)ParseQuantity(element));

    /// <summary>A 0x-hex quantity that fits a ulong; false for anything else (no exception).</summary>
    public static bool TryParseUInt64(JsonElement element, out ulong value)
    {
        value = 0;
        if (element.ValueKind != JsonValueKind.String || element.GetString() is not { } text || !text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ||
            text.Length is < 3 or > 18)
        {
            return false;
        }

        return ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>True for a 0x-prefixed 20-byte hex address.</summary>
    public static bool IsAddress(string? value) =>
        value is { Length: 42 } && value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && !value.AsSpan(2).ContainsAnyExcept(HexDigits);

    /// <summary>Lower-case form of an address, for comparisons and storage.</summary>
    public static string NormalizeAddress(string address) =>
        IsAddress(address) ? address.ToLowerInvariant() : throw new ArgumentException($"'{address}' is not a 0x-hex address", nameof(address));
}
