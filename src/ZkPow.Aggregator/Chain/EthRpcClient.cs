using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace ZkPow.Aggregator.Chain;

/// <summary>
/// The base-chain JSON-RPC client: single calls and batches over a <see cref="JsonRpcTransport"/> (one or more
/// endpoints, transient failures retried within a per-call budget). A call that cannot be answered within the budget
/// is a <see cref="ChainUnavailableException"/>; a definite error answer is an <see cref="EthRpcException"/>. It keeps
/// the highest head any endpoint has shown, so head reads never go backwards because one backend lags.
/// </summary>
public sealed class EthRpcClient : IDisposable
{
    private long _highestHead = -1;

    /// <summary>One endpoint, one attempt per call (no retries): for tools and tests that want every failure at once.</summary>
    public EthRpcClient(string url, TimeSpan timeout)
        : this(new JsonRpcTransport(url, timeout))
    {
    }

    /// <summary>Several equivalent endpoints (failover, healthiest first) with retries as <paramref name="options"/> say.</summary>
    public EthRpcClient(IEnumerable<string> urls, RpcRetryOptions options, ILogger logger, TimeProvider time)
        : this(new JsonRpcTransport(urls, options, logger, time))
    {
    }

    public EthRpcClient(JsonRpcTransport transport)
    {
        Transport = transport;
    }

    /// <summary>The client for <c>Chain:RpcUrl</c> and <c>Chain:RpcUrls</c> with the <c>Chain:</c> retry settings.</summary>
    public static EthRpcClient Create(ChainOptions options, ILoggerFactory loggers, TimeProvider time) =>
        new(options.AllRpcUrls(), options.RetryOptions(), loggers.CreateLogger<EthRpcClient>(), time);

    public JsonRpcTransport Transport { get; }

    /// <summary>The first endpoint's URL as configured (may hold an API key: never log it; see <see cref="Endpoints"/>).</summary>
    public string Url => Transport.FirstUrl;

    /// <summary>The endpoints as scheme://host:port.</summary>
    public IReadOnlyList<string> Endpoints => Transport.Endpoints;

    /// <summary>The highest block number seen from any endpoint (head reads, receipts, blocks); null before the first.</summary>
    public ulong? HighestHead => Interlocked.Read(ref _highestHead) is var h and >= 0 ? (ulong)h : null;

    /// <summary>Records a head (or a block known to exist) and returns the highest seen: never lower than an earlier one.</summary>
    public ulong ObserveHead(ulong block)
    {
        var seen = Interlocked.Read(ref _highestHead);
        while ((long)block > seen)
        {
            var previous = Interlocked.CompareExchange(ref _highestHead, (long)block, seen);
            if (previous == seen)
            {
                return block;
            }

            seen = previous;
        }

        return (ulong)seen;
    }

    /// <summary><c>eth_blockNumber</c>, as the highest head seen so far: a backend that lags never moves it back (a
    /// reorg shows in block hashes, not in a lower number).</summary>
    public async Task<ulong> GetBlockNumberAsync(CancellationToken cancellationToken) =>
        ObserveHead(HexData.ParseUInt64(await Transport.CallAsync("eth_blockNumber", [], cancellationToken).ConfigureAwait(false)));

    /// <summary>The block <paramref name="number"/> (without transactions). A backend that has no such block although
    /// a higher head was seen lags: the read is retried (on another endpoint first). Null when no endpoint has it.</summary>
    public async Task<JsonElement?> GetBlockAsync(ulong number, CancellationToken cancellationToken)
    {
        var known = HighestHead is { } head && number <= head;
        var block = await CallAsync("eth_getBlockByNumber", [HexData.Quantity(number), false], cancellationToken,
            known ? r => r.ValueKind == JsonValueKind.Object ? null : $"does not have block {number} yet (lags the head)" : null).ConfigureAwait(false);
        return block.ValueKind == JsonValueKind.Object ? block : null;
    }

    /// <summary>Calls <paramref name="method"/> and returns its result (a clone, safe to keep).</summary>
    public async Task<JsonElement> CallAsync(string method, JsonArray parameters, CancellationToken cancellationToken)
        => await CallAsync(method, parameters, cancellationToken, null).ConfigureAwait(false);

    public Task<JsonElement> CallAsync(string method, CancellationToken cancellationToken) => CallAsync(method, [], cancellationToken);

    /// <summary>As <see cref="CallAsync(string, JsonArray, CancellationToken)"/>; <paramref name="lagging"/> names why a
    /// result comes from a backend that lags (the call is then retried).</summary>
    public async Task<JsonElement> CallAsync(string method, JsonArray parameters, CancellationToken cancellationToken, Func<JsonElement, string?>? lagging)
    {
        var result = await Transport.CallAsync(method, parameters, cancellationToken, lagging).ConfigureAwait(false);
        Observe(method, result);
        return result;
    }

    /// <summary>Sends the calls as one batch; the replies are in the order of <paramref name="calls"/>.</summary>
    public async Task<IReadOnlyList<EthRpcReply>> BatchAsync(IReadOnlyList<(string Method, JsonArray Parameters)> calls, CancellationToken cancellationToken,
        Func<IReadOnlyList<EthRpcReply>, string?>? lagging = null)
    {
        var replies = await Transport.BatchAsync(calls, cancellationToken, lagging).ConfigureAwait(false);
        for (var i = 0; i < replies.Count; i++)
        {
            if (replies[i].Error is null)
            {
                Observe(calls[i].Method, replies[i].Result);
            }
        }

        return replies;
    }

    /// <summary><c>eth_call</c>; a revert is returned decoded, not thrown. At a block number, a backend that does not
    /// have that block yet answers "header not found" or alike, and the call is retried elsewhere. At <c>latest</c>,
    /// once a head is known, the call goes in one batch with <c>eth_blockNumber</c>: a backend whose head is below the
    /// highest head seen lags (it would answer from an older state, where a window may not be open yet or a
    /// predecessor not verified), and the call is retried elsewhere.</summary>
    public async Task<ChainCallResult<byte[]>> EthCallAsync(string? from, string to, byte[] data, System.Numerics.BigInteger value,
        string block, CancellationToken cancellationToken)
    {
        var call = CallObject(from, to, data, value);
        if (block == "latest" && HighestHead is { } seen)
        {
            var replies = await BatchAsync([("eth_blockNumber", []), ("eth_call", [call, block])], cancellationToken,
                r => r[0].Error is null && HexData.TryParseUInt64(r[0].Result, out var head) && head < seen
                    ? $"answers as of block {head}, below the head {seen} already seen (lags)"
                    : null).ConfigureAwait(false);
            return replies[1].Error switch
            {
                null => ChainCallResult<byte[]>.Ok(HexData.Decode(replies[1].Result.GetString() ?? "0x")),
                { IsRevert: true } e => ChainCallResult<byte[]>.Reverted(ChainRevert.Decode(e.ErrorData, e.RpcMessage)),
                var e => throw e,
            };
        }

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

    /// <summary>
    /// <c>eth_sendRawTransaction</c> to every endpoint at once, the first to take it is enough (one provider dropping
    /// it, stalling or losing the reply does not matter; the others still get it; one that failed at once is asked
    /// again after a hedge delay while no endpoint has taken it), idempotent
    /// by the transaction's hash: "already known" is success; "nonce too low" is success when a node has this very
    /// transaction (looked up by hash), else the error is thrown; when no endpoint answered (a reply lost after the
    /// request ran, a timeout, a dropped connection) the hash is looked up before the same bytes are sent again.
    /// Nothing is ever signed here. After the budget: <see cref="ChainUnavailableException"/>.
    /// </summary>
    public Task<RawTxBroadcast> SendRawTransactionAsync(byte[] rawTx, CancellationToken cancellationToken) =>
        BroadcastAsync("eth_sendRawTransaction", HexData.Encode(rawTx), HexData.Encode(Abi.Keccak(rawTx)), cancellationToken);

    /// <summary>Runs the code of <see cref="SendRawTransactionAsync"/> once with a read (<c>eth_chainId</c> to every
    /// endpoint), so that the first real broadcast does not pay for it to be compiled; sends nothing.</summary>
    public async Task WarmUpBroadcastAsync(CancellationToken cancellationToken) =>
        await BroadcastAsync("eth_chainId", null, HexData.Encode(new byte[32]), cancellationToken).ConfigureAwait(false);

    private async Task<RawTxBroadcast> BroadcastAsync(string method, string? raw, string hash, CancellationToken cancellationToken)
    {
        return await Transport.RetryAsync(method, async (_, token) =>
        {
            // The first endpoint that takes it is enough: a stalled or silent one does not hold the send up.
            var replies = await Transport.BroadcastAsync(method, raw is null ? [] : [raw],
                r => r.Answered || (r.Error is { } e && IsAlreadyKnown(e.RpcMessage)), token).ConfigureAwait(false);
            if (replies.Any(r => r.Answered))
            {
                return RawTxBroadcast.Accepted;
            }

            if (replies.Any(r => r.Error is { } e && IsAlreadyKnown(e.RpcMessage)))
            {
                return RawTxBroadcast.AlreadyKnown;
            }

            var refused = replies.Select(r => r.Error).OfType<EthRpcException>().ToList();
            if (refused.Count > 0 || replies.All(r => r.Failure is not null))
            {
                // "nonce too low" (the tx may be mined), a refusal, or no answer at all (the request may have run):
                // the node has this very tx if a lookup by hash finds it.
                if (await IsKnownAsync(hash, token).ConfigureAwait(false))
                {
                    return RawTxBroadcast.AlreadyKnown;
                }
            }

            if (refused.Count > 0)
            {
                throw refused.FirstOrDefault(e => IsNonceTooLow(e.RpcMessage)) ?? refused[0];
            }

            throw new RpcTransientException($"{method} {hash}: no endpoint answered (last: {replies[^1].Failure})");
        }, cancellationToken, hedge: false).ConfigureAwait(false);
    }

    /// <summary>True when "already known"-like: the node has this exact transaction.</summary>
    public static bool IsAlreadyKnown(string message) =>
        message.Contains("already known", StringComparison.OrdinalIgnoreCase)
        || message.Contains("known transaction", StringComparison.OrdinalIgnoreCase)
        || message.Contains("already imported", StringComparison.OrdinalIgnoreCase)
        || message.Contains("already exists", StringComparison.OrdinalIgnoreCase)
        || message.Contains("already in the pool", StringComparison.OrdinalIgnoreCase);

    public static bool IsNonceTooLow(string message) => message.Contains("nonce too low", StringComparison.OrdinalIgnoreCase);

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

    public void Dispose() => Transport.Dispose();

    /// <summary>Whether any endpoint knows the transaction (pending or mined), asked of all at once.</summary>
    private async Task<bool> IsKnownAsync(string hash, CancellationToken cancellationToken)
    {
        var replies = await Transport.CallEachAsync("eth_getTransactionByHash", [hash], cancellationToken,
            r => r.Answered && r.Result.ValueKind == JsonValueKind.Object).ConfigureAwait(false);
        return replies.Any(r => r.Answered && r.Result.ValueKind == JsonValueKind.Object);
    }

    /// <summary>Blocks and receipts prove a head at least as high as their block.</summary>
    private void Observe(string method, JsonElement result)
    {
        if (method == "eth_blockNumber" && result.ValueKind == JsonValueKind.String && HexData.TryParseUInt64(result, out var head))
        {
            ObserveHead(head);
            return;
        }

        if (result.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var field = method switch
        {
            "eth_getBlockByNumber" or "eth_getBlockByHash" => "number",
            "eth_getTransactionReceipt" => "blockNumber",
            _ => null,
        };
        if (field is not null && result.TryGetProperty(field, out var number) && HexData.TryParseUInt64(number, out var block))
        {
            ObserveHead(block);
        }
    }
}
