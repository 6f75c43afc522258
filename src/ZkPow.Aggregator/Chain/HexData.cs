using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace ZkPow.Aggregator.Chain;

/// <summary>0x-hex conversions: JSON-RPC values (bytes, quantities, addresses) and fixed-size words.</summary>
internal static class HexData
{
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    public static string Encode(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);

    /// <summary>Bytes from hex with or without 0x (an odd digit count gets a leading zero); <see cref="FormatException"/> if not hex.</summary>
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

    /// <summary>Bytes from hex with or without 0x: false for null, an odd digit count or a non-hex digit.</summary>
    public static bool TryDecode(string? hex, [NotNullWhen(true)] out byte[]? bytes)
    {
        bytes = null;
        if (hex is null)
        {
            return false;
        }

        var span = hex.AsSpan();
        if (span.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            span = span[2..];
        }

        if (span.Length % 2 != 0)
        {
            return false;
        }

        var result = new byte[span.Length / 2];
        if (Convert.FromHexString(span, result, out _, out var written) != System.Buffers.OperationStatus.Done || written != result.Length)
        {
            return false;
        }

        bytes = result;
        return true;
    }

    /// <summary>A 32-byte word given as hex.</summary>
    public static bool TryDecodeWord(string? hex, [NotNullWhen(true)] out byte[]? word) => TryDecodeFixed(hex, 32, out word);

    /// <summary>A 20-byte address given as hex (any letter case; the checksum is not checked).</summary>
    public static bool TryDecodeAddress(string? hex, [NotNullWhen(true)] out byte[]? address) => TryDecodeFixed(hex, 20, out address);

    /// <summary>A 20-byte address; <see cref="FormatException"/> if it is not one.</summary>
    public static byte[] DecodeAddress(string hex) =>
        TryDecodeAddress(hex, out var address) ? address : throw new FormatException($"not an address: '{Shorten(hex)}'");

    /// <summary>A 32-byte word; <see cref="FormatException"/> if it is not one.</summary>
    public static byte[] DecodeWord(string hex) =>
        TryDecodeWord(hex, out var word) ? word : throw new FormatException($"not a 32-byte word: '{Shorten(hex)}'");

    private static bool TryDecodeFixed(string? hex, int length, [NotNullWhen(true)] out byte[]? bytes)
    {
        if (TryDecode(hex, out bytes) && bytes.Length == length)
        {
            return true;
        }

        bytes = null;
        return false;
    }

    private static string Shorten(string? text) => text is null ? "" : text.Length <= 80 ? text : text[..80] + "…";
}
