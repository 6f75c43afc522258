using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ZkPow.Aggregator.Chain;

/// <summary>
/// A small JSON-RPC 2.0 client over HTTP for the base-chain node: single calls and batches. A transport failure or a
/// timeout is a <see cref="ChainUnavailableException"/>; an error answer is an <see cref="EthRpcException"/>.
/// </summary>
public sealed class EthRpcClient : IDisposable
{
    private readonly HttpClient _http;
    private long _nextId;

    public EthRpcClient(string url, TimeSpan timeout)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"'{url}' is not an http(s) URL", nameof(url));
        }

        Url = url;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        {
            BaseAddress = uri,
            Timeout = timeout,
        };
    }

    public string Url { get; }

    /// <summary>Calls <paramref name="method"/> and returns its result (a clone, safe to keep).</summary>
    public async Task<JsonElement> CallAsync(string method, JsonArray parameters, CancellationToken cancellationToken)
    {
        var request = Request(Interlocked.Increment(ref _nextId), method, parameters);
        using var document = await PostAsync(request, method, cancellationToken).ConfigureAwait(false);
        var reply = Parse(document.RootElement, method);
        return reply.Error is null ? reply.Result : throw reply.Error;
    }

    public Task<JsonElement> CallAsync(string method, CancellationToken cancellationToken) => CallAsync(method, [], cancellationToken);

    /// <summary>Sends the calls as one batch; the replies are in the order of <paramref name="calls"/>.</summary>
    public async Task<IReadOnlyList<EthRpcReply>> BatchAsync(IReadOnlyList<(string Method, JsonArray Parameters)> calls, CancellationToken cancellationToken)
    {
        if (calls.Count == 0)
        {
            return [];
        }

        var first = Interlocked.Add(ref _nextId, calls.Count) - calls.Count + 1;
        var batch = new JsonArray();
        for (var i = 0; i < calls.Count; i++)
        {
            batch.Add(Request(first + i, calls[i].Method, calls[i].Parameters));
        }

        using var document = await PostAsync(batch, "batch", cancellationToken).ConfigureAwait(false);
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            // Some nodes answer a whole batch with one error object.
            var error = Parse(document.RootElement, "batch").Error ?? new EthRpcException("batch", 0, "not an array answer", null);
            throw error;
        }

        var replies = new EthRpcReply[calls.Count];
        var seen = new bool[calls.Count];
        foreach (var item in document.RootElement.EnumerateArray())
        {
            if (!item.TryGetProperty("id", out var idElement) || !idElement.TryGetInt64(out var id) || id < first || id >= first + calls.Count)
            {
                continue;
            }

            var index = (int)(id - first);
            replies[index] = Parse(item, calls[index].Method);
            seen[index] = true;
        }

        for (var i = 0; i < seen.Length; i++)
        {
            if (!seen[i])
            {
                replies[i] = new EthRpcReply(default, new EthRpcException(calls[i].Method, 0, "no answer in the batch", null));
            }
        }

        return replies;
    }

    /// <summary><c>eth_call</c>; a revert is returned decoded, not thrown.</summary>
    public async Task<ChainCallResult<byte[]>> EthCallAsync(string? from, string to, byte[] data, System.Numerics.BigInteger value,
        string block, CancellationToken cancellationToken)
    {
        var call = CallObject(from, to, data, value);
        try
        {
            var result = await CallAsync("eth_call", [call, block], cancellationToken).ConfigureAwait(false);
            return ChainCallResult<byte[]>.Ok(HexData.Decode(result.GetString() ?? "0x"));
        }
        catch (EthRpcException e) when (e.IsRevert)
        {
            return ChainCallResult<byte[]>.Reverted(ChainRevert.Decode(e.ErrorData, e.RpcMessage));
        }
    }

    /// <summary>The JSON object of a call or transaction request.</summary>
    public static JsonObject CallObject(string? from, string to, byte[] data, System.Numerics.BigInteger value)
    {
        var call = new JsonObject { ["to"] = to, ["data"] = HexData.Encode(data) };
        if (from is not null)
        {
            call["from"] = from;
        }

        if (!value.IsZero)
        {
            call["value"] = HexData.Quantity(value);
        }

        return call;
    }

    public void Dispose() => _http.Dispose();

    private static JsonObject Request(long id, string method, JsonArray parameters) => new()
    {
        ["jsonrpc"] = "2.0",
        ["id"] = id,
        ["method"] = method,
        ["params"] = parameters.DeepClone(),
    };

    private async Task<JsonDocument> PostAsync(JsonNode body, string what, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.PostAsJsonAsync(string.Empty, body, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode && response.Content.Headers.ContentType?.MediaType != "application/json")
            {
                throw new ChainUnavailableException($"{what}: the node answered HTTP {(int)response.StatusCode}");
            }

            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new ChainUnavailableException($"{what}: the node at {Url} is unreachable ({e.Message})", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ChainUnavailableException($"{what}: the node at {Url} did not answer in time", e);
        }
        catch (IOException e)
        {
            throw new ChainUnavailableException($"{what}: the connection to {Url} broke ({e.Message})", e);
        }
        catch (JsonException e)
        {
            throw new ChainUnavailableException($"{what}: the node at {Url} sent invalid JSON", e);
        }
    }

    private static EthRpcReply Parse(JsonElement root, string method)
    {
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
        {
            var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var n) ? n : 0;
            var message = error.TryGetProperty("message", out var m) ? m.ToString() : string.Empty;
            return new EthRpcReply(default, new EthRpcException(method, code, message, ErrorData(error)));
        }

        return new EthRpcReply(root.ValueKind == JsonValueKind.Object && root.TryGetProperty("result", out var result) ? result.Clone() : default, null);
    }

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
