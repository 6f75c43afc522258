using System.Text.Json.Nodes;

namespace ZkPow.Aggregator.Tests.Chain;

/// <summary>What a <see cref="ScriptedRpcServer"/> does with one JSON-RPC request.</summary>
internal abstract record RpcAnswer
{
    public static RpcAnswer Ok(JsonNode? result) => new ResultAnswer(result);

    public static RpcAnswer Ok(string result) => new ResultAnswer(JsonValue.Create(result));

    public static RpcAnswer Error(int code, string message, string? data = null) => new ErrorAnswer(code, message, data);

    public static RpcAnswer Http(int status, string body = "<html>busy</html>", int? retryAfterSeconds = null) => new HttpAnswer(status, body, retryAfterSeconds);

    public static RpcAnswer Stall(TimeSpan delay, RpcAnswer then) => new StallAnswer(delay, then);

    /// <summary>The request was read (and "ran"); the connection is cut before any reply.</summary>
    public static RpcAnswer Drop { get; } = new DropAnswer();

    public static RpcAnswer Garbage { get; } = new HttpAnswer(200, "{\"jsonrpc\":\"2.0\",\"id\":1,\"res");

    internal sealed record ResultAnswer(JsonNode? Result) : RpcAnswer;

    internal sealed record ErrorAnswer(int Code, string Message, string? Data) : RpcAnswer;

    internal sealed record HttpAnswer(int Status, string Body, int? RetryAfterSeconds = null) : RpcAnswer;

    internal sealed record StallAnswer(TimeSpan Delay, RpcAnswer Then) : RpcAnswer;

    internal sealed record DropAnswer : RpcAnswer;
}
