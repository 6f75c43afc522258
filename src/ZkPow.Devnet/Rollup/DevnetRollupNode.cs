using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Proof;

namespace ZkPow.Devnet.Rollup;

/// <summary>
/// The devnet rollup node: a JSON-RPC server on 127.0.0.1 answering <c>zkevm_batchNumber</c>,
/// <c>zkevm_virtualBatchNumber</c>, <c>zkevm_verifiedBatchNumber</c> and <c>zkevm_getBatchByNumber</c> from the
/// ledger the sequencer fills (roots per devnet-proof.md). For tests it can lie (wrong roots for chosen batches) or
/// answer garbage.
/// </summary>
public sealed class DevnetRollupNode : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly DevnetRollupLedger _ledger;
    private readonly Func<CancellationToken, Task<ulong>>? _verifiedBatch;
    private readonly ConcurrentDictionary<ulong, bool> _lies = new();

    private DevnetRollupNode(WebApplication app, DevnetRollupLedger ledger, Func<CancellationToken, Task<ulong>>? verifiedBatch)
    {
        _app = app;
        _ledger = ledger;
        _verifiedBatch = verifiedBatch;
    }

    public int Port { get; private set; }

    /// <summary>The node's JSON-RPC URL.</summary>
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Batches whose state root, acc input hash and local exit root the node reports wrong.</summary>
    public IReadOnlyCollection<ulong> Lies => [.. _lies.Keys];

    /// <summary>When set, every answer is an HTTP 200 with a body that is not JSON-RPC.</summary>
    public bool AnswerGarbage { get; set; }

    /// <summary>Number of requests served.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    private long _requests;

    public void Lie(ulong batch) => _lies[batch] = true;

    public void StopLying(ulong batch) => _lies.TryRemove(batch, out _);

    /// <summary>Starts the node. <paramref name="verifiedBatch"/> reads the verified batch (for example
    /// <c>lastVerifiedBatch()</c> of the devnet contract); without it the node reports 0.</summary>
    public static async Task<DevnetRollupNode> StartAsync(DevnetRollupLedger ledger, DevnetRollupNodeOptions options,
        Func<CancellationToken, Task<ulong>>? verifiedBatch = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, options.Port));
        var app = builder.Build();
        var node = new DevnetRollupNode(app, ledger, verifiedBatch);
        app.MapPost("/", node.HandleAsync);
        // Providers put API keys in the path: any path answers, as theirs do.
        app.MapPost("/{**path}", node.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        node.Port = new Uri(address).Port;
        return node;
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        var token = context.RequestAborted;
        if (AnswerGarbage)
        {
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("<html>502 upstream garbage</html>", token).ConfigureAwait(false);
            return;
        }

        JsonNode? request;
        try
        {
            request = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: token).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            await WriteAsync(context, Error(null, -32700, "parse error")).ConfigureAwait(false);
            return;
        }

        JsonNode answer;
        if (request is JsonArray batch)
        {
            var answers = new JsonArray();
            foreach (var item in batch)
            {
                answers.Add(await AnswerAsync(item, token).ConfigureAwait(false));
            }

            answer = answers;
        }
        else
        {
            answer = await AnswerAsync(request, token).ConfigureAwait(false);
        }

        await WriteAsync(context, answer).ConfigureAwait(false);
    }

    private static Task WriteAsync(HttpContext context, JsonNode answer)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(answer.ToJsonString(), context.RequestAborted);
    }

    private async Task<JsonNode> AnswerAsync(JsonNode? request, CancellationToken cancellationToken)
    {
        var id = request?["id"]?.DeepClone();
        var method = request?["method"]?.GetValue<string>();
        var parameters = request?["params"] as JsonArray ?? [];
        switch (method)
        {
            case "zkevm_batchNumber":
            case "zkevm_virtualBatchNumber":
                return Result(id, HexData.Quantity(_ledger.LastBatch));
            case "zkevm_verifiedBatchNumber":
                var verified = _verifiedBatch is null ? 0 : await _verifiedBatch(cancellationToken).ConfigureAwait(false);
                return Result(id, HexData.Quantity(verified));
            case "zkevm_getBatchByNumber":
                if (parameters.Count < 1 || !TryParseNumber(parameters[0], out var number))
                {
                    return Error(id, -32602, "invalid batch number");
                }

                var batch = _ledger.GetBatch(number);
                return Result(id, batch is null ? null : BatchObject(batch, number));
            default:
                return Error(id, -32601, $"the method {method} does not exist");
        }
    }

    private JsonObject BatchObject(DevnetBatch batch, ulong number)
    {
        var stateRoot = batch.StateRoot;
        var accInputHash = batch.AccInputHash;
        var localExitRoot = batch.LocalExitRoot;
        if (_lies.ContainsKey(number))
        {
            stateRoot = DevnetRules.Mask(DevnetRules.Keccak256("lie/state/" + number.ToString(CultureInfo.InvariantCulture)));
            accInputHash = DevnetRules.Keccak256("lie/acc/" + number.ToString(CultureInfo.InvariantCulture));
            localExitRoot = DevnetRules.LocalExitRoot(stateRoot);
        }

        return new JsonObject
        {
            ["number"] = HexData.Quantity(number),
            ["coinbase"] = batch.Coinbase.ToLowerInvariant(),
            ["stateRoot"] = HexData.Encode(stateRoot),
            ["globalExitRoot"] = HexData.Encode(batch.GlobalExitRoot),
            ["mainnetExitRoot"] = HexData.Encode(batch.GlobalExitRoot),
            ["rollupExitRoot"] = HexData.Encode(new byte[32]),
            ["localExitRoot"] = HexData.Encode(localExitRoot),
            ["accInputHash"] = HexData.Encode(accInputHash),
            ["timestamp"] = HexData.Quantity(batch.Timestamp),
            ["sendSequencesTxHash"] = _ledger.GetSequenceTransaction(number),
            ["verifyBatchTxHash"] = null,
            ["closed"] = true,
            ["blocks"] = new JsonArray(),
            ["transactions"] = new JsonArray(),
            ["batchL2Data"] = HexData.Encode(batch.Transactions),
        };
    }

    private static bool TryParseNumber(JsonNode? node, out ulong number)
    {
        number = 0;
        if (node is not JsonValue value)
        {
            return false;
        }

        if (value.TryGetValue<ulong>(out number))
        {
            return true;
        }

        return value.TryGetValue<string>(out var text) && text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) &&
               ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out number);
    }

    private static JsonObject Result(JsonNode? id, JsonNode? result) => new() { ["jsonrpc"] = "2.0", ["id"] = id, ["result"] = result };

    private static JsonObject Error(JsonNode? id, int code, string message) =>
        new() { ["jsonrpc"] = "2.0", ["id"] = id, ["error"] = new JsonObject { ["code"] = code, ["message"] = message } };


    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
