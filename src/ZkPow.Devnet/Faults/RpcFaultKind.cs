namespace ZkPow.Devnet.Faults;

/// <summary>What the fault proxy does to one request instead of (or on top of) forwarding it.</summary>
public enum RpcFaultKind
{
    /// <summary>HTTP 503 Service Unavailable, nothing forwarded.</summary>
    Http503,

    /// <summary>HTTP 429 Too Many Requests (with <c>Retry-After: 1</c>), nothing forwarded.</summary>
    Http429,

    /// <summary>A JSON-RPC error reply -32603 "internal error" to every call of the request, nothing forwarded.</summary>
    RpcInternalError,

    /// <summary>A JSON-RPC error reply -32005 "rate limit exceeded" to every call of the request, nothing forwarded.</summary>
    RpcRateLimit,

    /// <summary>A stall of 1–4 s, then the request is forwarded and answered.</summary>
    Stall,

    /// <summary>The request is forwarded and runs upstream, then the connection is aborted without an answer.</summary>
    LostReply,

    /// <summary>The request is forwarded and runs upstream, then only the first half of its answer is sent (invalid JSON).</summary>
    Truncated,

    /// <summary>A lagging backend: <c>eth_blockNumber</c> and <c>latest</c> reads are answered as of a few blocks behind the head.</summary>
    Lag,

    /// <summary>A backend at the head whose receipts lag its blocks (hosted providers index receipts after the block):
    /// receipts of transactions in the last few blocks are answered as null while the blocks themselves are there.</summary>
    ReceiptMissing,

    /// <summary>A request refused (connection aborted, nothing forwarded) while the outage switch is on.</summary>
    Outage,
}
