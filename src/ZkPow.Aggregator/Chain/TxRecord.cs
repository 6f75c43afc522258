using System.Numerics;

namespace ZkPow.Aggregator.Chain;

/// <summary>A managed transaction as stored.</summary>
public sealed record TxRecord
{
    public required long Id { get; init; }
    public required string Key { get; init; }
    public required string Kind { get; init; }

    /// <summary>The sending address (lower-case).</summary>
    public required string Sender { get; init; }

    public required string To { get; init; }
    public required byte[] Data { get; init; }
    public required BigInteger Value { get; init; }
    public required TxState State { get; init; }

    /// <summary>0 until signed.</summary>
    public ulong GasLimit { get; init; }

    /// <summary>Assigned when signed; null for a transaction that never got one (created, or refused by the pre-flight).</summary>
    public ulong? Nonce { get; init; }

    public TxFees? Fees { get; init; }

    /// <summary>The signed raw transaction of the current version (a replacement makes a new version); once mined, of the
    /// version that was mined (with its kind and call: a cancel signed after an original that was mined anyway is not the
    /// record's).</summary>
    public byte[]? RawTx { get; init; }

    /// <summary>The hash of the current version; once mined, the hash of the version that was mined.</summary>
    public string? TxHash { get; init; }

    public ulong? BlockNumber { get; init; }
    public string? BlockHash { get; init; }

    /// <summary>The receipt's status once mined.</summary>
    public bool? Succeeded { get; init; }

    /// <summary>Why it failed, decoded (pre-flight or on-chain revert).</summary>
    public ChainRevert? Revert { get; init; }

    /// <summary>A failure that is not a revert (for example a nonce taken by a transaction signed elsewhere).</summary>
    public string? Error { get; init; }

    /// <summary>Fee-bumped replacements made.</summary>
    public int Replacements { get; init; }

    /// <summary>Times the same signed transaction was broadcast again (dropped, restart, reorg).</summary>
    public int Rebroadcasts { get; init; }

    /// <summary>Times it was mined and then lost to a reorg.</summary>
    public int Reorgs { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The last broadcast (or replacement).</summary>
    public DateTimeOffset? SentAt { get; init; }

    public bool IsFinal => State is TxState.Confirmed or TxState.Failed;
}
