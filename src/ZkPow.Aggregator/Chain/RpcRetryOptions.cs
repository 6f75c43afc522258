namespace ZkPow.Aggregator.Chain;

/// <summary>How a JSON-RPC call is retried: each request has <see cref="RequestTimeout"/>; transient failures are
/// retried with jittered exponential backoff (from <see cref="RetryBaseDelay"/> up to <see cref="RetryMaxDelay"/>, at
/// once on another endpoint when there is one) until the call has taken <see cref="CallBudget"/>. With more than one
/// endpoint, a request that has no answer after the hedge delay (twice the endpoint's recent p95 latency, at least
/// <see cref="HedgeMin"/>, at most <see cref="HedgeAfter"/>) is sent to the next endpoint as well; the first definite
/// answer wins and the other request is cancelled.</summary>
public sealed record RpcRetryOptions
{
    /// <summary>How long one HTTP request may take. Example: <c>10s</c>.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one call may take with all its retries; then it fails as unavailable. Example: <c>30s</c>.</summary>
    public TimeSpan CallBudget { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The first backoff delay (doubled per retry, with jitter). Example: <c>100ms</c>.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest backoff delay between two retries. Example: <c>2s</c>.</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The most attempts of one call (1 = no retry); 0 = as many as the budget allows.</summary>
    public int MaxAttempts { get; init; }

    /// <summary>The longest wait for an answer before the same request is also sent to another endpoint (hedging; only
    /// with more than one endpoint); <see cref="TimeSpan.Zero"/> = no hedging. Example: <c>1s</c>.</summary>
    public TimeSpan HedgeAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The shortest hedge delay, whatever the endpoints' recent latency. Example: <c>150ms</c>.</summary>
    public TimeSpan HedgeMin { get; init; } = TimeSpan.FromMilliseconds(150);

    /// <summary>One attempt per call, no retry, no budget beyond the request timeout: a bare client that reports every
    /// failure at once (tools, and tests that want to see each failure).</summary>
    public static RpcRetryOptions SingleAttempt(TimeSpan requestTimeout) =>
        new() { RequestTimeout = requestTimeout, CallBudget = Timeout.InfiniteTimeSpan, MaxAttempts = 1, HedgeAfter = TimeSpan.Zero };

    /// <summary>The hedge delay for an endpoint whose recent p95 latency is <paramref name="p95"/> (null = not known
    /// yet): twice that, between <see cref="HedgeMin"/> and <see cref="HedgeAfter"/>.</summary>
    public TimeSpan HedgeDelay(TimeSpan? p95)
    {
        var learned = p95 is { } p ? p * 2 : HedgeAfter;
        var floor = HedgeMin < HedgeAfter ? HedgeMin : HedgeAfter;
        return learned < floor ? floor : learned > HedgeAfter ? HedgeAfter : learned;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad value (options classes validate their keys first).</summary>
    public void Validate()
    {
        if (RequestTimeout < TimeSpan.FromMilliseconds(10))
        {
            throw new ArgumentException("the request timeout must be at least 10ms", nameof(RequestTimeout));
        }

        if (CallBudget != Timeout.InfiniteTimeSpan && CallBudget < TimeSpan.FromMilliseconds(10))
        {
            throw new ArgumentException("the call budget must be at least 10ms", nameof(CallBudget));
        }

        if (RetryBaseDelay < TimeSpan.Zero || RetryMaxDelay < RetryBaseDelay)
        {
            throw new ArgumentException("the retry delays must be 0 ≤ base ≤ max", nameof(RetryBaseDelay));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(MaxAttempts);
        if (HedgeAfter < TimeSpan.Zero || HedgeMin < TimeSpan.Zero)
        {
            throw new ArgumentException("the hedge delays must not be negative", nameof(HedgeAfter));
        }
    }
}
