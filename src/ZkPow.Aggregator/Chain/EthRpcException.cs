namespace ZkPow.Aggregator.Chain;

/// <summary>The node answered a JSON-RPC call with an error object.</summary>
public sealed class EthRpcException(string method, int code, string rpcMessage, string? data)
    : Exception($"{method} failed ({code}): {rpcMessage}")
{
    public string Method { get; } = method;

    public int Code { get; } = code;

    public string RpcMessage { get; } = rpcMessage;

    /// <summary>The error's <c>data</c> when it is 0x-hex (revert data), else null.</summary>
    public string? ErrorData { get; } = data;

    /// <summary>The call reverted (revert data present, or the node says so).</summary>
    public bool IsRevert => ErrorData is not null || RpcMessage.Contains("revert", StringComparison.OrdinalIgnoreCase);
}
