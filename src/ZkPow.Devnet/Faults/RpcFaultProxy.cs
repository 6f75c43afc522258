using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Devnet.Faults;

/// <summary>
/// A JSON-RPC proxy on 127.0.0.1 (cleartext HTTP/1.1) that forwards single and batch requests to an upstream node
/// and, for a seeded random share of them, behaves like a flaky hosted provider: HTTP 503 and 429, JSON-RPC error
/// replies (-32603, -32005), stalls of 1–4 s, replies lost or truncated after the request ran upstream, a lagging backend that
/// answers <c>eth_blockNumber</c> and <c>latest</c> reads a few blocks behind the head, and a backend at the head without
/// the receipts of its last few blocks. An outage switch refuses
/// everything while on. Every fault injected is counted by kind.
/// </summary>
public sealed class RpcFaultProxy : IAsyncDisposable
{
    private static readonly RpcFaultKind[] s_allKinds = Enum.GetValues<RpcFaultKind>();

    private readonly WebApplication _app;
    private readonly RpcFaultProxyOptions _options;
    private readonly HttpClient _upstream;
    private readonly Random _random;
    private readonly Lock _randomGate = new();
    private readonly long[] _counts = new long[s_allKinds.Length];
    private long _requests;
    private volatile bool _outage;
    private volatile bool _lagging;
    private volatile bool _receiptsMissing;
    private double _rate;

    private RpcFaultProxy(WebApplication app, RpcFaultProxyOptions options)
    {
        _app = app;
        _options = options;
        _random = new Random(options.Seed);
        _rate = options.Rate;
        _upstream = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1), MaxConnectionsPerServer = 64 })
        {
            Timeout = options.UpstreamTimeout,
        };
    }

    /// <summary>The proxy's JSON-RPC URL.</summary>
    public string Url { get; private set; } = string.Empty;

    public RpcFaultProxyOptions Options => _options;

    /// <summary>The share of requests that get a fault now (starts at <see cref="RpcFaultProxyOptions.Rate"/>).</summary>
    public double Rate
    {
        get => Volatile.Read(ref _rate);
        set
        {
            if (double.IsNaN(value) || value is < 0 or > 1)
            {
                throw new ArgumentOutOfRangeException(nameof(value), "the fault rate must be between 0 and 1");
            }

            Volatile.Write(ref _rate, value);
        }
    }

    /// <summary>While on, every request is refused: the connection is aborted without forwarding or answering.</summary>
    public bool Outage
    {
        get => _outage;
        set => _outage = value;
    }

    /// <summary>While on, every request is answered as a lagging backend would (on top of the random faults).</summary>
    public bool Lagging
    {
        get => _lagging;
        set => _lagging = value;
    }

    /// <summary>While on, receipts of the last few blocks are answered as null (on top of the random faults), as by a
    /// backend whose receipts lag its blocks.</summary>
    public bool ReceiptsMissing
    {
        get => _receiptsMissing;
        set => _receiptsMissing = value;
    }

    /// <summary>Requests received (including refused ones).</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Faults injected in all (every kind, the outage's refusals included).</summary>
    public long Injected => s_allKinds.Sum(Count);

    /// <summary>The requests and the faults by kind, for a log line or a test's output.</summary>
    public string Describe() =>
        $"{Requests} requests, {Injected} faults ({string.Join(", ", s_allKinds.Where(k => Count(k) > 0).Select(k => $"{Name(k)} {Count(k)}"))})";

    /// <summary>How many times the fault was injected.</summary>
    public long Count(RpcFaultKind kind) => Interlocked.Read(ref _counts[(int)kind]);

    /// <summary>Every fault kind's count, keyed by its camelCase name (<c>http503</c>, <c>lostReply</c>, …).</summary>
    public IReadOnlyDictionary<string, long> Snapshot() => s_allKinds.ToDictionary(Name, Count);

    /// <summary>The report name of a fault kind.</summary>
    public static string Name(RpcFaultKind kind) => JsonNamingPolicy.CamelCase.ConvertName(kind.ToString());

    public static async Task<RpcFaultProxy> StartAsync(RpcFaultProxyOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, options.Port, l => l.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        var proxy = new RpcFaultProxy(app, options);
        app.Run(proxy.HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await proxy.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        proxy.Url = $"http://127.0.0.1:{new Uri(address).Port}";
        return proxy;
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        var token = context.RequestAborted;
        if (_outage)
        {
            Counted(RpcFaultKind.Outage);
            context.Abort();
            return;
        }

        byte[] body;
        using (var buffer = new MemoryStream())
        {
            await context.Request.Body.CopyToAsync(buffer, token).ConfigureAwait(false);
            body = buffer.ToArray();
        }

        JsonNode? request = null;
        try
        {
            request = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            // Not JSON: forwarded as it is (the upstream answers the parse error).
        }

        var lagApplies = request is not null && LagApplies(request);
        var receiptApplies = request is not null && Calls(request).Any(c => Method(c) == "eth_getTransactionReceipt");
        var fault = Draw(lagApplies, receiptApplies);
        if (fault is null && _lagging && lagApplies)
        {
            fault = RpcFaultKind.Lag;
        }
        else if (fault is null && _receiptsMissing && receiptApplies)
        {
            fault = RpcFaultKind.ReceiptMissing;
        }

        try
        {
            switch (fault)
            {
                case RpcFaultKind.Http503:
                    Counted(RpcFaultKind.Http503);
                    await WritePlainAsync(context, StatusCodes.Status503ServiceUnavailable, "service unavailable").ConfigureAwait(false);
                    return;
                case RpcFaultKind.Http429:
                    Counted(RpcFaultKind.Http429);
                    context.Response.Headers.RetryAfter = "1";
                    await WritePlainAsync(context, StatusCodes.Status429TooManyRequests, "too many requests").ConfigureAwait(false);
                    return;
                case RpcFaultKind.RpcInternalError or RpcFaultKind.RpcRateLimit when request is not null:
                    Counted(fault.Value);
                    await WriteJsonAsync(context, StatusCodes.Status200OK, ErrorReply(request, fault == RpcFaultKind.RpcInternalError
                        ? (-32603, "internal error")
                        : (-32005, "rate limit exceeded"))).ConfigureAwait(false);
                    return;
                case RpcFaultKind.Stall:
                    Counted(RpcFaultKind.Stall);
                    await Task.Delay(StallTime(), token).ConfigureAwait(false);
                    break;
                case RpcFaultKind.LostReply:
                    Counted(RpcFaultKind.LostReply);
                    await ForwardAsync(body, token).ConfigureAwait(false);
                    context.Abort();
                    return;
                case RpcFaultKind.Truncated:
                    Counted(RpcFaultKind.Truncated);
                    var (truncatedStatus, whole) = await ForwardAsync(body, token).ConfigureAwait(false);
                    await WriteBytesAsync(context, truncatedStatus, whole[..(whole.Length / 2)]).ConfigureAwait(false);
                    return;
                case RpcFaultKind.Lag when request is not null:
                    Counted(RpcFaultKind.Lag);
                    var (status, lagged) = await ForwardLaggingAsync(request, token).ConfigureAwait(false);
                    await WriteBytesAsync(context, status, lagged).ConfigureAwait(false);
                    return;
                case RpcFaultKind.ReceiptMissing when request is not null:
                    Counted(RpcFaultKind.ReceiptMissing);
                    var (receiptStatus, withoutReceipts) = await ForwardWithoutRecentReceiptsAsync(body, token).ConfigureAwait(false);
                    await WriteBytesAsync(context, receiptStatus, withoutReceipts).ConfigureAwait(false);
                    return;
                default:
                    break;
            }

            var (code, answer) = await ForwardAsync(body, token).ConfigureAwait(false);
            await WriteBytesAsync(context, code, answer).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !token.IsCancellationRequested)
        {
            // The upstream is down or too slow: what a provider's gateway says then.
            await WritePlainAsync(context, StatusCodes.Status502BadGateway, "bad gateway: " + ex.Message).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private RpcFaultKind? Draw(bool lagApplies, bool receiptApplies)
    {
        var rate = Rate;
        if (rate <= 0)
        {
            return null;
        }

        lock (_randomGate)
        {
            if (_random.NextDouble() >= rate)
            {
                return null;
            }

            var kinds = lagApplies && receiptApplies
                ? _options.Kinds
                : [.. _options.Kinds.Where(k => (k != RpcFaultKind.Lag || lagApplies) && (k != RpcFaultKind.ReceiptMissing || receiptApplies))];
            return kinds.Count == 0 ? null : kinds[_random.Next(kinds.Count)];
        }
    }

    private TimeSpan StallTime()
    {
        lock (_randomGate)
        {
            return _options.StallMin + ((_options.StallMax - _options.StallMin) * _random.NextDouble());
        }
    }

    private void Counted(RpcFaultKind kind) => Interlocked.Increment(ref _counts[(int)kind]);

    private async Task<(int Status, byte[] Body)> ForwardAsync(byte[] body, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await _upstream.PostAsync(_options.Upstream, content, cancellationToken).ConfigureAwait(false);
        return ((int)response.StatusCode, await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
    }

    // ------------------------------------------------------------------ the lagging backend

    private static IEnumerable<JsonObject> Calls(JsonNode request) =>
        request is JsonArray batch ? batch.OfType<JsonObject>() : request is JsonObject single ? [single] : [];

    private static string? Method(JsonObject call) => call["method"] is JsonValue v && v.TryGetValue<string>(out var m) ? m : null;

    private static bool IsLatest(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) && s == "latest";

    private static bool LagApplies(JsonNode request) => Calls(request).Any(call =>
        Method(call) is "eth_blockNumber" or "eth_getTransactionReceipt" or "eth_getBlockByNumber" or "eth_getLogs" ||
        (call["params"] is JsonArray parameters && parameters.Any(IsLatest)));

    /// <summary>Answers as a backend <see cref="RpcFaultProxyOptions.LagBlocks"/> behind: <c>latest</c> becomes that
    /// block, the head is reported there, and blocks and receipts above it do not exist yet.</summary>
    private async Task<(int Status, byte[] Body)> ForwardLaggingAsync(JsonNode original, CancellationToken cancellationToken)
    {
        var (headStatus, headBody, upstreamHead) = await UpstreamHeadAsync(cancellationToken).ConfigureAwait(false);
        if (upstreamHead is not { } head)
        {
            return (headStatus, headBody);
        }

        var lagged = head > (ulong)_options.LagBlocks ? head - (ulong)_options.LagBlocks : 0;
        var laggedTag = HexData.Quantity(lagged);
        var request = original.DeepClone();
        var byId = new Dictionary<string, (string Method, ulong? Block)>();
        foreach (var call in Calls(request))
        {
            var method = Method(call) ?? string.Empty;
            ulong? asked = null;
            if (call["params"] is JsonArray parameters)
            {
                for (var i = 0; i < parameters.Count; i++)
                {
                    if (IsLatest(parameters[i]))
                    {
                        parameters[i] = laggedTag;
                    }
                }

                if (method == "eth_getBlockByNumber" && parameters.Count > 0 && parameters[0] is JsonValue number &&
                    number.TryGetValue<string>(out var text) && text.StartsWith("0x", StringComparison.Ordinal))
                {
                    asked = (ulong)HexData.ParseQuantity(text);
                }

                if (method == "eth_getLogs" && parameters.Count > 0 && parameters[0] is JsonObject filter && filter["blockHash"] is null)
                {
                    if (filter["toBlock"] is null || IsLatest(filter["toBlock"]))
                    {
                        filter["toBlock"] = laggedTag;
                    }

                    if (IsLatest(filter["fromBlock"]))
                    {
                        filter["fromBlock"] = laggedTag;
                    }
                }
            }

            byId[call["id"]?.ToJsonString() ?? "null"] = (method, asked);
        }

        var (status, body) = await ForwardAsync(JsonSerializer.SerializeToUtf8Bytes(request), cancellationToken).ConfigureAwait(false);
        JsonNode? answer;
        try
        {
            answer = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return (status, body);
        }

        if (answer is null)
        {
            return (status, body);
        }

        foreach (var reply in Calls(answer))
        {
            if (!byId.TryGetValue(reply["id"]?.ToJsonString() ?? "null", out var call) || reply["error"] is not null)
            {
                continue;
            }

            switch (call.Method)
            {
                case "eth_blockNumber":
                    reply["result"] = laggedTag;
                    break;
                case "eth_getBlockByNumber" when call.Block > lagged:
                    reply["result"] = null;
                    break;
                case "eth_getTransactionReceipt" or "eth_getTransactionByHash"
                    when reply["result"] is JsonObject found && found["blockNumber"] is JsonValue at && at.TryGetValue<string>(out var atText) &&
                         (ulong)HexData.ParseQuantity(atText) > lagged:
                    reply["result"] = null;
                    break;
                default:
                    break;
            }
        }

        return (status, JsonSerializer.SerializeToUtf8Bytes(answer));
    }

    /// <summary>The upstream's head (<c>eth_blockNumber</c>), with the answer as it came; the head is null when the answer
    /// is not a good one.</summary>
    private async Task<(int Status, byte[] Body, ulong? Head)> UpstreamHeadAsync(CancellationToken cancellationToken)
    {
        var (status, body) = await ForwardAsync(
            Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":"proxy-head","method":"eth_blockNumber","params":[]}"""), cancellationToken).ConfigureAwait(false);
        try
        {
            return status == StatusCodes.Status200OK && JsonNode.Parse(body)?["result"] is JsonValue value && value.TryGetValue<string>(out var text)
                ? (status, body, (ulong)HexData.ParseQuantity(text))
                : (status, body, null);
        }
        catch (JsonException)
        {
            return (status, body, null);
        }
    }

    /// <summary>Forwards the request, then answers as a backend whose receipts lag its blocks: a receipt of a transaction
    /// in one of the last <see cref="RpcFaultProxyOptions.LagBlocks"/> blocks becomes null.</summary>
    private async Task<(int Status, byte[] Body)> ForwardWithoutRecentReceiptsAsync(byte[] body, CancellationToken cancellationToken)
    {
        var (status, answerBody) = await ForwardAsync(body, cancellationToken).ConfigureAwait(false);
        var (_, _, upstreamHead) = await UpstreamHeadAsync(cancellationToken).ConfigureAwait(false);
        JsonNode? answer;
        try
        {
            answer = JsonNode.Parse(answerBody);
            if (answer is null || upstreamHead is not { } head)
            {
                return (status, answerBody);
            }

            var oldest = head >= (ulong)_options.LagBlocks ? head - (ulong)_options.LagBlocks + 1 : 0;
            foreach (var reply in Calls(answer))
            {
                // Of the replies, only a receipt has both a transaction index and a cumulative gas used.
                if (reply["result"] is JsonObject found && found["transactionIndex"] is not null && found["cumulativeGasUsed"] is not null &&
                    found["blockNumber"] is JsonValue at && at.TryGetValue<string>(out var atText) && (ulong)HexData.ParseQuantity(atText) >= oldest)
                {
                    reply["result"] = null;
                }
            }
        }
        catch (JsonException)
        {
            return (status, answerBody);
        }

        return (status, JsonSerializer.SerializeToUtf8Bytes(answer));
    }

    private static JsonNode ErrorReply(JsonNode request, (int Code, string Message) error)
    {
        JsonObject One(JsonObject? call) => new()
        {
            ["jsonrpc"] = "2.0",
            ["id"] = call?["id"]?.DeepClone(),
            ["error"] = new JsonObject { ["code"] = error.Code, ["message"] = error.Message },
        };

        return request is JsonArray batch ? new JsonArray([.. batch.Select(c => (JsonNode)One(c as JsonObject))]) : One(request as JsonObject);
    }

    private static async Task WritePlainAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync(text, context.RequestAborted).ConfigureAwait(false);
    }

    private static Task WriteJsonAsync(HttpContext context, int status, JsonNode answer) =>
        WriteBytesAsync(context, status, JsonSerializer.SerializeToUtf8Bytes(answer));

    private static async Task WriteBytesAsync(HttpContext context, int status, byte[] body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _upstream.Dispose();
    }
}
