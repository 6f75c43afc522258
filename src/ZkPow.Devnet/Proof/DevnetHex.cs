using System.Diagnostics.CodeAnalysis;

namespace ZkPow.Devnet.Proof;

/// <summary>Hex helpers for the devnet values: 0x-prefixed lower-case hex, 32-byte words and 20-byte addresses.</summary>
public static class DevnetHex
{
    /// <summary>Formats bytes as 0x-prefixed lower-case hex.</summary>
    public static string ToHex(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);

    /// <summary>Parses hex with or without a 0x prefix; throws <see cref="FormatException"/> if it is not hex.</summary>
    public static byte[] Parse(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        return TryParse(hex, out var bytes) ? bytes : throw new FormatException($"not a hex string: '{Shorten(hex)}'");
    }

    /// <summary>Parses hex with or without a 0x prefix.</summary>
    public static bool TryParse(string? hex, [NotNullWhen(true)] out byte[]? bytes)
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
        if (Convert.FromHexString(span, result, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != result.Length)
        {
            return false;
        }

        bytes = result;
        return true;
    }

    /// <summary>Parses a 32-byte word given as hex.</summary>
    public static bool TryParseWord(string? hex, [NotNullWhen(true)] out byte[]? word) => TryParseFixed(hex, 32, out word);

    /// <summary>Parses a 20-byte address given as hex (any letter case; the checksum is not checked).</summary>
    public static bool TryParseAddress(string? hex, [NotNullWhen(true)] out byte[]? address) =>
        TryParseFixed(hex, 20, out address);

    /// <summary>Parses a 20-byte address; throws <see cref="FormatException"/> if it is not one.</summary>
    public static byte[] ParseAddress(string hex) =>
        TryParseAddress(hex, out var address) ? address : throw new FormatException($"not an address: '{Shorten(hex)}'");

    /// <summary>Parses a 32-byte word; throws <see cref="FormatException"/> if it is not one.</summary>
    public static byte[] ParseWord(string hex) =>
        TryParseWord(hex, out var word) ? word : throw new FormatException($"not a 32-byte word: '{Shorten(hex)}'");

    private static bool TryParseFixed(string? hex, int length, [NotNullWhen(true)] out byte[]? bytes)
    {
        if (TryParse(hex, out bytes) && bytes.Length == length)
        {
            return true;
        }

        bytes = null;
        return false;
    }

    private static string Shorten(string? text) => text is null ? "" : text.Length <= 80 ? text : text[..80] + "…";
}
