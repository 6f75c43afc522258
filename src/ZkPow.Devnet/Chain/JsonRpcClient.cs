using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ZkPow.Devnet.Chain;

/// <summary>A minimal JSON-RPC 2.0 client over HTTP, for the node calls the devnet makes itself.</summary>
internal sealed class JsonRpcClient : IDisposable
{
    private readonly HttpClient _http;
    private long _nextId;

    public JsonRpcClient(string url, TimeSpan timeout)
    {
        Url = url;
        _http = new HttpClient { BaseAddress = new Uri(url), Timeout = timeout };
    }

    public string Url { get; }

    /// <summary>Calls <paramref name="method"/> and returns its <c>result</c>; throws <see cref="JsonRpcException"/> on an error answer.</summary>
    public async Task<JsonElement> CallAsync(string method, JsonArray parameters, CancellationToken ct)
    {
        var id = Interlocked.Increment(ref _nextId);
        var request = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = id,
            ["method"] = method,
            ["params"] = parameters,
        };
        using var response = await _http.PostAsJsonAsync(string.Empty, request, ct).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        using var document = await JsonDocument.ParseAsync(
            await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false), cancellationToken: ct).ConfigureAwait(false);
        var root = document.RootElement;
        if (root.TryGetProperty("error", out var error))
        {
            var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt32() : 0;
            var message = error.TryGetProperty("message", out var m) ? m.ToString() : string.Empty;
            throw new JsonRpcException(method, code, message, ErrorData(error));
        }

        return root.TryGetProperty("result", out var result) ? result.Clone() : default;
    }

    public Task<JsonElement> CallAsync(string method, CancellationToken ct) => CallAsync(method, [], ct);

    public void Dispose() => _http.Dispose();

    private static string? ErrorData(JsonElement error)
    {
        if (!error.TryGetProperty("data", out var data))
        {
            return null;
        }

        if (data.ValueKind == JsonValueKind.String && data.GetString() is { } text && text.StartsWith("0x", StringComparison.Ordinal))
        {
            return text;
        }

        return data.ValueKind == JsonValueKind.Object && data.TryGetProperty("data", out var inner) && inner.ValueKind == JsonValueKind.String
            ? inner.GetString()
            : null;
    }
}
