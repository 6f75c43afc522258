using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace ZkPow.Aggregator.Tests.Chain;

/// <summary>
/// A loopback HTTP JSON-RPC server whose answers a test scripts per request: <c>script(method, params, n)</c> with n
/// the how-many-th call of that method (from 1). It counts the calls it received per method.
/// </summary>
internal sealed class ScriptedRpcServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<string, JsonArray, int, RpcAnswer> _script;
    private readonly ConcurrentDictionary<string, int> _counts = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    private ScriptedRpcServer(HttpListener listener, string url, Func<string, JsonArray, int, RpcAnswer> script)
    {
        _listener = listener;
        _script = script;
        Url = url;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The base URL (ends with '/'), optionally with a path added by the test.</summary>
    public string Url { get; }

    public int Count(string method) => _counts.TryGetValue(method, out var n) ? n : 0;

    public int Total => _counts.Values.Sum();

    public static ScriptedRpcServer Start(Func<string, JsonArray, int, RpcAnswer> script, string path = "")
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = Random.Shared.Next(20_000, 60_000);
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return new ScriptedRpcServer(listener, $"http://127.0.0.1:{port}/{path}", script);
            }
            catch (HttpListenerException) when (attempt < 20)
            {
                listener.Close();
            }
        }
    }

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
            using var reader = new StreamReader(context.Request.InputStream);
            var body = JsonNode.Parse(await reader.ReadToEndAsync())!;
            RpcAnswer answer;
            string text;
            if (body is JsonArray batch)
            {
                var answers = batch.Select(r => (Request: r!.AsObject(), Answer: Next(r!.AsObject()))).ToList();
                var whole = answers.Select(a => a.Answer).FirstOrDefault(a => a is not (RpcAnswer.ResultAnswer or RpcAnswer.ErrorAnswer));
                answer = whole ?? RpcAnswer.Ok((JsonNode?)null);
                text = new JsonArray([.. answers.Select(a => Reply(a.Request, a.Answer))]).ToJsonString();
            }
            else
            {
                answer = Next(body.AsObject());
                text = Reply(body.AsObject(), Unstalled(answer)).ToJsonString();
            }

            while (answer is RpcAnswer.StallAnswer stall)
            {
                await Task.Delay(stall.Delay, _stopping.Token);
                answer = stall.Then;
            }

            switch (answer)
            {
                case RpcAnswer.DropAnswer:
                    context.Response.Abort();
                    return;
                case RpcAnswer.HttpAnswer http:
                    context.Response.StatusCode = http.Status;
                    if (http.RetryAfterSeconds is { } retryAfter)
                    {
                        context.Response.AddHeader("Retry-After", retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    }

                    text = http.Body;
                    break;
            }

            var bytes = Encoding.UTF8.GetBytes(text);
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or OperationCanceledException or IOException or InvalidOperationException)
        {
            // The client went away, or the server stops.
        }
    }

    private RpcAnswer Next(JsonObject request)
    {
        var method = request["method"]!.GetValue<string>();
        var n = _counts.AddOrUpdate(method, 1, (_, c) => c + 1);
        return _script(method, request["params"] as JsonArray ?? [], n);
    }

    private static RpcAnswer Unstalled(RpcAnswer answer) => answer is RpcAnswer.StallAnswer s ? Unstalled(s.Then) : answer;

    private static JsonObject Reply(JsonObject request, RpcAnswer answer)
    {
        var reply = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = request["id"]!.DeepClone() };
        switch (Unstalled(answer))
        {
            case RpcAnswer.ResultAnswer r:
                reply["result"] = r.Result?.DeepClone();
                break;
            case RpcAnswer.ErrorAnswer e:
                var error = new JsonObject { ["code"] = e.Code, ["message"] = e.Message };
                if (e.Data is not null)
                {
                    error["data"] = e.Data;
                }

                reply["error"] = error;
                break;
            default:
                reply["result"] = null;
                break;
        }

        return reply;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        try
        {
            _listener.Close();
        }
        catch (HttpListenerException)
        {
            // Stop released the port, and Close looks its endpoint up again (binding it anew on Linux): when another test
            // took that port in between, it fails with "Address already in use". The listener is stopped either way.
        }

        await _loop;
        _stopping.Dispose();
    }
}
