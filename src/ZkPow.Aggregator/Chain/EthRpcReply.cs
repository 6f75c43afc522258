using System.Text.Json;

namespace ZkPow.Aggregator.Chain;

/// <summary>One answer of a JSON-RPC batch: a result, or the error the node returned for that call.</summary>
public readonly record struct EthRpcReply(JsonElement Result, EthRpcException? Error)
{
    public bool IsNull => Error is null && Result.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined;
}
