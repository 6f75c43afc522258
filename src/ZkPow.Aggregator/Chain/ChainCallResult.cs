namespace ZkPow.Aggregator.Chain;

/// <summary>The value of a call, or the reason it reverted (an expected outcome, not an exception).</summary>
public readonly record struct ChainCallResult<T>(T? Value, ChainRevert? Revert)
{
    public bool Succeeded => Revert is null;

    public static ChainCallResult<T> Ok(T value) => new(value, null);

    public static ChainCallResult<T> Reverted(ChainRevert revert) => new(default, revert);
}
