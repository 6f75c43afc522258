using System.Text.RegularExpressions;

namespace ZkPow.Aggregator.Chain;

/// <summary>
/// Node URLs carry API keys in their path, query or user info (providers put them there): every text that leaves the
/// process (health output, the status API, logs, start-up errors) shows a URL as <c>scheme://host:port/…</c> only.
/// Database connection strings carry a password: its value is shown as <c>***</c> (<c>Password=***</c>).
/// </summary>
public static partial class UrlRedaction
{
    /// <summary>Every http(s) URL in <paramref name="text"/> with its user info, path and query replaced.</summary>
    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        text = Password().Replace(text, m => $"{m.Groups["key"].Value}=***");
        return Url().Replace(text, m =>
        {
            var authority = m.Groups["authority"].Value;
            var at = authority.LastIndexOf('@');
            if (at >= 0)
            {
                authority = authority[(at + 1)..];
            }

            var rest = m.Groups["rest"].Value;
            return $"{m.Groups["scheme"].Value}://{authority}{(rest.Length > 1 || (rest.Length == 1 && rest != "/") ? "/…" : rest)}";
        });
    }

    [GeneratedRegex(@"(?<scheme>https?)://(?<authority>[^/\s?#""'<>()]+)(?<rest>[^\s""'<>()]*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Url();

    /// <summary>A connection string's <c>Password=…</c> or <c>Pwd=…</c> (up to the next <c>;</c>, or quoted).</summary>
    [GeneratedRegex(@"(?<key>\b(?:password|pwd))\s*=\s*(?:""[^""]*""|'[^']*'|[^;\s""]*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Password();
}
