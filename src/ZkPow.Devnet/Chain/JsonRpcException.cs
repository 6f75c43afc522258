namespace ZkPow.Devnet.Chain;

/// <summary>A JSON-RPC error answer: its code, message and optional data (for a revert, the revert data as hex).</summary>
internal sealed class JsonRpcException(string method, int code, string message, string? errorData)
    : Exception($"{method} failed ({code}): {message}")
{
    public string Method { get; } = method;

    public int Code { get; } = code;

    public string RpcMessage { get; } = message;

    /// <summary>The error's <c>data</c> member when it is a hex string (a revert's return data), else null.</summary>
    public string? ErrorData { get; } = errorData;
}
