using System.Numerics;

namespace ZkPow.Aggregator.Chain;

/// <summary>
/// A transaction the caller wants on chain. <see cref="Key"/> makes it idempotent: submitting the same key again returns
/// the existing transaction. Build keys with <see cref="KeyFor"/> (<c>kind/final batch/attempt</c>).
/// </summary>
public sealed record TxRequest(string Key, string Kind, string To, byte[] Data)
{
    /// <summary>The kind a transaction takes once it is cancelled (replaced by a 0-value transfer to the sender).</summary>
    public const string CancelKind = "cancel";

    /// <summary>Wei sent along.</summary>
    public BigInteger Value { get; init; }

    /// <summary>A fixed gas limit; null = <c>eth_estimateGas</c> times <see cref="TxManagerOptions.GasLimitMultiplier"/>.</summary>
    public ulong? GasLimit { get; init; }

    /// <summary>
    /// The pre-flight <c>eth_call</c> is skipped (with <see cref="GasLimit"/> set, so is the estimate): the call only succeeds
    /// once a transaction of ours with a lower nonce, already signed and in flight, has been mined (a reveal right behind
    /// our own reveal of the predecessor sequence). Applies to the submission only: a transaction prepared again later,
    /// after a restart, has its pre-flight call as usual.
    /// </summary>
    public bool SkipPreflightCall { get; init; }

    /// <summary>The idempotency key <c>kind/finalBatch/attempt</c>, for example <c>submitProofHash/42/0</c>.</summary>
    public static string KeyFor(string kind, ulong finalBatch, int attempt) => $"{kind}/{finalBatch}/{attempt}";

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Key) || Key.Length > 200)
        {
            throw new ArgumentException("a transaction needs a key of 1 to 200 characters", nameof(Key));
        }

        if (string.IsNullOrWhiteSpace(Kind))
        {
            throw new ArgumentException("a transaction needs a kind", nameof(Kind));
        }

        if (!HexData.IsAddress(To))
        {
            throw new ArgumentException($"'{To}' is not a 0x-hex address", nameof(To));
        }

        ArgumentNullException.ThrowIfNull(Data);
        ArgumentOutOfRangeException.ThrowIfNegative(Value);
        if (GasLimit is 0)
        {
            throw new ArgumentException("a fixed gas limit must be positive", nameof(GasLimit));
        }

        if (SkipPreflightCall && GasLimit is null)
        {
            throw new ArgumentException("a transaction without its pre-flight call needs a fixed gas limit (there is nothing to estimate on)",
                nameof(SkipPreflightCall));
        }
    }
}
