using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Sync;

/// <summary>
/// A <c>zkevm_</c> JSON-RPC client for the rollup node. Quantities may come as hex strings (with or without leading
/// zeros) or as JSON numbers; every field is checked, and anything else is a <see cref="RollupNodeException"/>
/// naming the method and the field. Calls go through the same <see cref="JsonRpcTransport"/> as the base chain's
/// (several endpoints, transient failures retried within a budget).
/// </summary>
public sealed class RollupNodeClient : IRollupNode, IDisposable
{
    private readonly EthRpcClient _rpc;

    /// <summary>One endpoint, one attempt per call (no retries).</summary>
    public RollupNodeClient(string url, TimeSpan timeout)
    {
        _rpc = new EthRpcClient(url, timeout);
    }

    /// <summary>Several equivalent endpoints (failover, healthiest first) with retries as <paramref name="options"/> say.</summary>
    public RollupNodeClient(IEnumerable<string> urls, RpcRetryOptions options, ILogger logger, TimeProvider time)
    {
        _rpc = new EthRpcClient(urls, options, logger, time);
    }

    /// <summary>The client for <c>Sync:RollupNodeUrl</c> and <c>Sync:RollupNodeUrls</c> with the <c>Chain:</c> retry settings.</summary>
    public static RollupNodeClient Create(SyncOptions options, ChainOptions chain, ILoggerFactory loggers, TimeProvider time) =>
        new(options.AllRollupNodeUrls(), options.RetryOptions(chain), loggers.CreateLogger<RollupNodeClient>(), time);

    /// <summary>The first endpoint's URL as configured (may hold a key: never log it).</summary>
    public string Url => _rpc.Url;

    public JsonRpcTransport Transport => _rpc.Transport;

    public Task<ulong> GetBatchNumberAsync(CancellationToken cancellationToken) => NumberAsync("zkevm_batchNumber", cancellationToken);

    public Task<ulong> GetVirtualBatchNumberAsync(CancellationToken cancellationToken) => NumberAsync("zkevm_virtualBatchNumber", cancellationToken);

    public Task<ulong> GetVerifiedBatchNumberAsync(CancellationToken cancellationToken) => NumberAsync("zkevm_verifiedBatchNumber", cancellationToken);

    public async Task<RollupNodeBatch?> GetBatchAsync(ulong number, CancellationToken cancellationToken)
    {
        const string method = "zkevm_getBatchByNumber";
        var result = await CallAsync(method, [HexData.Quantity(number), false], cancellationToken).ConfigureAwait(false);
        if (result.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }

        if (result.ValueKind != JsonValueKind.Object)
        {
            throw new RollupNodeException($"{method}({number}): the answer is a {result.ValueKind}, not an object");
        }

        var batch = new RollupNodeBatch(
            Quantity(result, "number", method),
            Address(result, "coinbase", method),
            Word(result, "stateRoot", method),
            Word(result, "globalExitRoot", method),
            Word(result, "mainnetExitRoot", method),
            Word(result, "rollupExitRoot", method),
            Word(result, "localExitRoot", method),
            Word(result, "accInputHash", method),
            Quantity(result, "timestamp", method),
            OptionalHash(result, "sendSequencesTxHash", method),
            OptionalHash(result, "verifyBatchTxHash", method),
            result.TryGetProperty("closed", out var closed) && closed.ValueKind == JsonValueKind.True,
            Bytes(result, "batchL2Data", method));
        return batch.Number == number
            ? batch
            : throw new RollupNodeException($"{method}({number}): the node answered batch {batch.Number}");
    }

    public void Dispose() => _rpc.Dispose();

    private async Task<ulong> NumberAsync(string method, CancellationToken cancellationToken)
    {
        var result = await CallAsync(method, [], cancellationToken).ConfigureAwait(false);
        return ParseQuantity(result, method, "result");
    }

    private async Task<JsonElement> CallAsync(string method, System.Text.Json.Nodes.JsonArray parameters, CancellationToken cancellationToken)
    {
        try
        {
            return await _rpc.CallAsync(method, parameters, cancellationToken).ConfigureAwait(false);
        }
        catch (EthRpcException e)
        {
            throw new RollupNodeException($"{method}: the rollup node answered an error ({e.Code}: {e.RpcMessage})", e);
        }
    }

    internal static ulong ParseQuantity(JsonElement value, string method, string field)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Number when value.TryGetUInt64(out var n):
                return n;
            case JsonValueKind.String:
                var text = value.GetString()!;
                var digits = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : null;
                if (digits is { Length: > 0 and <= 64 } &&
                    BigInteger.TryParse("0" + digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var big) && big <= ulong.MaxValue)
                {
                    return (ulong)big;
                }

                throw new RollupNodeException($"{method}: {field} '{Shorten(text)}' is not a hex quantity");
            default:
                throw new RollupNodeException($"{method}: {field} is a {value.ValueKind}, not a hex quantity");
        }
    }

    private static JsonElement Field(JsonElement obj, string field, string method) =>
        obj.TryGetProperty(field, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined)
            ? value
            : throw new RollupNodeException($"{method}: the field {field} is missing");

    private static ulong Quantity(JsonElement obj, string field, string method) => ParseQuantity(Field(obj, field, method), method, field);

    private static byte[] Bytes(JsonElement obj, string field, string method)
    {
        var value = Field(obj, field, method);
        var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : string.Empty;
        return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && HexData.TryDecode(text, out var bytes)
            ? bytes
            : throw new RollupNodeException($"{method}: {field} '{Shorten(text)}' is not 0x-hex bytes");
    }

    private static byte[] Word(JsonElement obj, string field, string method)
    {
        var bytes = Bytes(obj, field, method);
        return bytes.Length == 32 ? bytes : throw new RollupNodeException($"{method}: {field} has {bytes.Length} bytes, not 32");
    }

    private static string Address(JsonElement obj, string field, string method)
    {
        var bytes = Bytes(obj, field, method);
        return bytes.Length == 20 ? HexData.Encode(bytes) : throw new RollupNodeException($"{method}: {field} has {bytes.Length} bytes, not 20");
    }

    private static string? OptionalHash(JsonElement obj, string field, string method) =>
        obj.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String
            ? HexData.Encode(Word(obj, field, method))
            : null;

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";
}
