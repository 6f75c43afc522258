namespace ZkPow.Aggregator.Chain;

/// <summary>Which JSON-RPC error answers are worth retrying, and URL redaction for logs and errors.</summary>
internal static class RpcErrors
{
    private static readonly string[] TransientWords =
    [
        "header not found", "unknown block", "block not found", "block out of range", "beyond current head", "not yet available",
        "rate limit", "rate-limit", "ratelimit", "limit exceeded", "too many requests", "request limit", "capacity exceeded",
        "timeout", "timed out", "try again", "temporarily", "unavailable", "overloaded", "busy", "upstream", "backend",
    ];

    private static readonly string[] LaggingWords = ["header not found", "unknown block", "block not found", "block out of range", "beyond current head"];

    /// <summary>
    /// True when an error answer may go away on a retry or on another endpoint: -32603 internal error, -32005 limit
    /// exceeded, -32001 resource not found, and server errors (-32000..-32099, or a provider's HTTP-like code) whose
    /// message says rate limit, overload, timeout or an unknown block. Reverts (code 3, revert data, "revert" in the
    /// message), invalid params, unknown methods and every other server error are definite answers.
    /// </summary>
    public static bool IsTransient(EthRpcException error)
    {
        if (error.IsRevert || error.Code is 3 or -32602 or -32601 or -32600 or -32700)
        {
            return false;
        }

        if (error.Code is -32603 or -32005 or -32001 or 429 or 503)
        {
            return true;
        }

        return TransientWords.Any(w => error.RpcMessage.Contains(w, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The answer says the backend does not have the asked block yet (it lags the head).</summary>
    public static bool IsLagging(EthRpcException error) =>
        !error.IsRevert && LaggingWords.Any(w => error.RpcMessage.Contains(w, StringComparison.OrdinalIgnoreCase));

    /// <summary><c>scheme://host:port</c>: providers put API keys in the path or query, which must never reach a log.</summary>
    public static string Redact(Uri uri) => $"{uri.Scheme}://{uri.Host}:{uri.Port}";

    /// <summary>Removes the full URL (path, query, user info) from a message, keeping scheme://host:port.</summary>
    public static string Redact(string message, Uri uri)
    {
        var redacted = Redact(uri);
        var text = message.Replace(uri.OriginalString, redacted, StringComparison.OrdinalIgnoreCase)
            .Replace(uri.AbsoluteUri, redacted, StringComparison.OrdinalIgnoreCase);
        return uri.PathAndQuery is { Length: > 1 } secret ? text.Replace(secret, "/…", StringComparison.Ordinal) : text;
    }

    /// <summary>Parses, checks (http or https) and de-duplicates URLs, keeping their order.</summary>
    public static IReadOnlyList<Uri> ParseUrls(IEnumerable<string> urls, string key)
    {
        var result = new List<Uri>();
        foreach (var url in urls)
        {
            if (string.IsNullOrWhiteSpace(url))
            {
                continue;
            }

            if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"{key}: '{(Uri.TryCreate(url.Trim(), UriKind.Absolute, out var u) ? Redact(u) + "/…" : "(not a URL)")}' is not an http(s) URL");
            }

            if (!result.Any(r => Uri.Compare(r, uri, UriComponents.AbsoluteUri, UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) == 0))
            {
                result.Add(uri);
            }
        }

        return result;
    }
}
