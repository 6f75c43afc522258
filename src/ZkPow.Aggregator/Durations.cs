using System.Globalization;

namespace ZkPow.Aggregator;

/// <summary>Durations as operators write them: <c>50ms</c>, <c>2s</c>, <c>1m</c>, <c>1h</c>, <c>30d</c>, or a combination such as <c>1m30s</c>.</summary>
public static class Durations
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim().ToLowerInvariant();
        if (s == "0")
        {
            return true;
        }

        var total = 0.0;
        var i = 0;
        var any = false;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }

            if (start == i || !double.TryParse(s.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            var unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i]))
            {
                i++;
            }

            double? factor = s[unitStart..i] switch
            {
                "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => null,
            };
            if (factor is null)
            {
                return false;
            }

            total += number * factor.Value;
            any = true;
        }

        if (!any || total > TimeSpan.MaxValue.TotalMilliseconds)
        {
            return false;
        }

        value = TimeSpan.FromMilliseconds(total);
        return true;
    }

    public static TimeSpan Parse(string text, string key) =>
        TryParse(text, out var value) ? value : throw new OptionsException(key, $"'{text}' is not a duration (examples: 50ms, 2s, 1m)");

    public static string Format(TimeSpan value) => value.TotalMilliseconds < 1000
        ? $"{value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture)}ms"
        : $"{value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s";
}
