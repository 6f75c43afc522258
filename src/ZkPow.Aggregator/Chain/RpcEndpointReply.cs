using System.Text.Json;

namespace ZkPow.Aggregator.Chain;

/// <summary>What one endpoint answered to a call sent to every endpoint: a result, an error answer, or a transport
/// failure (<see cref="Failure"/>, the reason, with the URL redacted).</summary>
public readonly record struct RpcEndpointReply(string Endpoint, JsonElement Result, EthRpcException? Error, string? Failure)
{
    public bool Answered => Failure is null && Error is null;
}
