namespace ZkPow.Aggregator.Chain;

/// <summary>A state change of a stored transaction: the fields to set (null = keep) and counters to increment.</summary>
public sealed record TxChange(TxState To)
{
    /// <summary>The hash of the version a receipt shows mined; the store makes that version the current one (see
    /// <see cref="ITxStore.TransitionTxAsync"/>).</summary>
    public string? TxHash { get; init; }
    public ulong? BlockNumber { get; init; }
    public string? BlockHash { get; init; }
    public bool? Succeeded { get; init; }
    public ChainRevert? Revert { get; init; }
    public string? Error { get; init; }

    /// <summary>Clears block number, block hash and status (a reorg took the block away).</summary>
    public bool ClearBlock { get; init; }

    /// <summary>Sets <see cref="TxRecord.SentAt"/> to now.</summary>
    public bool Broadcast { get; init; }

    public bool CountRebroadcast { get; init; }
    public bool CountReorg { get; init; }
}
