namespace ZkPow.Aggregator.Chain;

/// <summary>One attempt of a JSON-RPC call failed in a way worth retrying (transport, HTTP 429/5xx, garbage, a server
/// error that is not a definite answer, a backend that lags). Never leaves the transport: after the budget it becomes
/// a <see cref="ChainUnavailableException"/>. <see cref="RetryAfter"/> is how long the endpoint asked not to be called
/// again (HTTP <c>Retry-After</c>): it applies to that endpoint only.</summary>
internal sealed class RpcTransientException(string message, Exception? inner = null, TimeSpan? retryAfter = null) : Exception(message, inner)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
