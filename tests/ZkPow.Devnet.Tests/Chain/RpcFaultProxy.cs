using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary>
/// A loopback HTTP JSON-RPC proxy in front of a real node that fails a share of the requests the ways hosted
/// providers do: HTTP 503 and 429, a JSON-RPC -32603 error, a stall of 1.5–3 s (longer than the clients' request
/// timeout; the request then runs), a reply lost after the request ran, and truncated JSON after it ran. Optionally it
/// answers single <c>eth_blockNumber</c> requests some blocks behind (a lagging backend). It counts what it did.
/// </summary>
internal sealed class RpcFaultProxy : IAsyncDisposable
{
    public static readonly string[] Kinds = ["http503", "http429", "rpc-32603", "stall", "lost-reply", "truncated"];

    private readonly HttpListener _listener;
    private readonly HttpClient _upstream;
    private readonly string _target;
    private readonly Random _random;
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, int> _faults = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private int _requests;

    private RpcFaultProxy(HttpListener listener, string url, string target, double failureRate, int seed, ulong lagBlocks)
    {
        _listener = listener;
        Url = url;
        _target = target;
        FailureRate = failureRate;
        LagBlocks = lagBlocks;
        _random = new Random(seed);
        _upstream = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }

    public double FailureRate { get; }

    public ulong LagBlocks { get; }

    public int Requests => Volatile.Read(ref _requests);

    public int Faults => _faults.Values.Sum();

    public IReadOnlyDictionary<string, int> FaultsByKind => _faults;

    public static RpcFaultProxy Start(string target, double failureRate, int seed, ulong lagBlocks = 0)
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = Random.Shared.Next(20_000, 60_000);
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return new RpcFaultProxy(listener, $"http://127.0.0.1:{port}/", target, failureRate, seed, lagBlocks);
            }
            catch (HttpListenerException) when (attempt < 20)
            {
                listener.Close();
            }
        }
    }

    public string Describe() =>
        $"{Requests} requests, {Faults} faults ({string.Join(", ", Kinds.Select(k => $"{k} {(_faults.TryGetValue(k, out var n) ? n : 0)}"))})";

    private async Task LoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            Interlocked.Increment(ref _requests);
            using var reader = new StreamReader(context.Request.InputStream);
            var body = await reader.ReadToEndAsync();
            string? fault;
            TimeSpan stall;
            lock (_gate)
            {
                fault = _random.NextDouble() < FailureRate ? Kinds[_random.Next(Kinds.Length)] : null;
                stall = TimeSpan.FromMilliseconds(_random.Next(1500, 3000));
            }

            if (fault is not null)
            {
                _faults.AddOrUpdate(fault, 1, (_, n) => n + 1);
            }

            switch (fault)
            {
                case "http503":
                    await AnswerAsync(context, 503, "<html>503 Service Temporarily Unavailable</html>", "text/html");
                    return;
                case "http429":
                    await AnswerAsync(context, 429, "Too Many Requests", "text/plain");
                    return;
                case "rpc-32603":
                    var id = JsonNode.Parse(body) is JsonObject single ? single["id"]?.DeepClone() : null;
                    await AnswerAsync(context, 200, new JsonObject
                    {
                        ["jsonrpc"] = "2.0",
                        ["id"] = id,
                        ["error"] = new JsonObject { ["code"] = -32603, ["message"] = "internal error" },
                    }.ToJsonString(), "application/json");
                    return;
                case "stall":
                    await Task.Delay(stall, _stopping.Token);
                    break;
            }

            using var upstream = await _upstream.PostAsync(_target, new StringContent(body, Encoding.UTF8, "application/json"), _stopping.Token);
            var answer = await upstream.Content.ReadAsStringAsync(_stopping.Token);
            switch (fault)
            {
                case "lost-reply":
                    context.Response.Abort();
                    return;
                case "truncated":
                    await AnswerAsync(context, 200, answer[..(answer.Length / 2)], "application/json");
                    return;
            }

            await AnswerAsync(context, (int)upstream.StatusCode, Lag(body, answer), "application/json");
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or OperationCanceledException or IOException
                                      or InvalidOperationException or HttpRequestException or System.Text.Json.JsonException)
        {
            try
            {
                context.Response.Abort();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>A lagging backend: a single eth_blockNumber is answered <see cref="LagBlocks"/> behind.</summary>
    private string Lag(string request, string answer)
    {
        if (LagBlocks == 0 || JsonNode.Parse(request) is not JsonObject { } call || call["method"]?.GetValue<string>() != "eth_blockNumber" ||
            JsonNode.Parse(answer) is not JsonObject reply || reply["result"]?.GetValue<string>() is not { } head)
        {
            return answer;
        }

        var number = Convert.ToUInt64(head, 16);
        reply["result"] = "0x" + (number > LagBlocks ? number - LagBlocks : 0).ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        return reply.ToJsonString();
    }

    private static async Task AnswerAsync(HttpListenerContext context, int status, string body, string contentType)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        _listener.Close();
        await _loop;
        _upstream.Dispose();
        _stopping.Dispose();
    }
}
