using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// Guards every state-changing request of the operator API (any method but GET, HEAD and OPTIONS under <c>/api/</c>,
/// whoever mapped the route): it needs the header <c>X-ZkPow-Operator: 1</c> (a browser sends a custom header
/// cross-site only after a CORS preflight, which this endpoint never grants), an <c>Origin</c> that is absent or this
/// endpoint itself, and, when <see cref="HttpOptions.OperatorTokenHash"/> is set, <c>Authorization: Bearer &lt;token&gt;</c>
/// whose SHA-256 is that hash. Without a token, a request must name the endpoint by IP address or <c>localhost</c>
/// (a page on another domain that re-points its name at this machine is refused). Refusals are 401 (no token) or 403,
/// with <c>{"error": "…"}</c>.
/// </summary>
internal sealed partial class OperatorApiGuard(RequestDelegate next, HttpOptions options, ILogger logger)
{
    /// <summary>The header that marks a request as sent on purpose by an operator's tool.</summary>
    public const string HeaderName = "X-ZkPow-Operator";

    // Quotes and angle brackets stay readable in the error texts (the body is JSON, never HTML).
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public async Task InvokeAsync(HttpContext context)
    {
        if (Check(context.Request, options.OperatorTokenHash) is not { } refusal)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        LogRefused(context.Request.Method, context.Request.Path.Value ?? "", context.Connection.RemoteIpAddress?.ToString() ?? "?", refusal.Status,
            refusal.Error);
        context.Response.StatusCode = refusal.Status;
        if (refusal.Status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"zkpow-operator\"";
        }

        await context.Response.WriteAsJsonAsync(new { error = refusal.Error }, s_json, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Null when the request may go on; else why not. Only non-GET requests under <c>/api/</c> are checked.</summary>
    public static OperatorRefusal? Check(HttpRequest request, string? tokenHash)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) ||
            !request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (request.Headers[HeaderName].ToString() != "1")
        {
            return new OperatorRefusal(StatusCodes.Status403Forbidden,
                $"state-changing operator requests need the header '{HeaderName}: 1' (zkpow and the dashboard send it)");
        }

        var origin = request.Headers.Origin.ToString();
        if (origin.Length > 0 && !SameOrigin(origin, request))
        {
            return new OperatorRefusal(StatusCodes.Status403Forbidden,
                $"cross-site request refused: Origin '{origin}' is not this endpoint ({request.Scheme}://{request.Host})");
        }

        if (string.IsNullOrEmpty(tokenHash))
        {
            return IsAddressOrLocalhost(request.Host.Host)
                ? null
                : new OperatorRefusal(StatusCodes.Status403Forbidden,
                    $"without an operator token (Http:OperatorTokenHash) requests must address the endpoint by IP or localhost, not '{request.Host.Host}'");
        }

        var authorization = request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (!authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) || authorization.Length == bearer.Length)
        {
            return new OperatorRefusal(StatusCodes.Status401Unauthorized,
                "this request needs the operator token: send 'Authorization: Bearer <token>' (zkpow: --token-file; the dashboard: the token field)");
        }

        var presented = ProverTokens.Hash(authorization[bearer.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(presented), Encoding.ASCII.GetBytes(tokenHash.ToLowerInvariant()))
            ? null
            : new OperatorRefusal(StatusCodes.Status403Forbidden, "the operator token is wrong (its SHA-256 is not Http:OperatorTokenHash)");
    }

    private static bool SameOrigin(string origin, HttpRequest request)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || !request.Host.HasValue)
        {
            return false; // includes "null", the origin of sandboxed frames and file: pages
        }

        var port = request.Host.Port ?? (request.IsHttps ? 443 : 80);
        return string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase) &&
            string.Equals(uri.IdnHost.Trim('[', ']'), request.Host.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase) &&
            uri.Port == port;
    }

    private static bool IsAddressOrLocalhost(string host) =>
        IPAddress.TryParse(host.Trim('[', ']'), out _) || string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Operator API refused {Method} {Path} from {Remote}: {Status} {Error}")]
    private partial void LogRefused(string method, string path, string remote, int status, string error);
}
