namespace ZkPow.Devnet.Network;

/// <summary>
/// What a miner spent on gas: every transaction from its address found in the chain's blocks (reverted ones, lost-race
/// reveals, replacements and no-op cancels included), per verified sequence, next to the gas of the two bare
/// transactions a sequence needs (one <c>submitProofHash</c> and one <c>verifyBatches</c>, each the median of the
/// miner's own successful ones on this chain). Staking (<c>deposit</c>, <c>withdraw</c> of the stake contract) is
/// counted apart, as <see cref="StakeTxs"/> and <see cref="StakeGas"/>.
/// </summary>
public sealed record DevnetGasReport
{
    public required int Txs { get; init; }

    public required int TxsReverted { get; init; }

    /// <summary>Transactions by kind: <c>submitProofHash</c>, <c>verifyBatches</c>, <c>cancel</c> (empty transaction
    /// to itself), <c>otherRollupCall</c>, <c>other</c>.</summary>
    public required IReadOnlyDictionary<string, int> TxsByKind { get; init; }

    public required long GasUsed { get; init; }

    public required int StakeTxs { get; init; }

    public required long StakeGas { get; init; }

    /// <summary>Gas used × effective gas price, summed (wei).</summary>
    public required string EthSpentWei { get; init; }

    /// <summary><see cref="GasUsed"/> ÷ the sequences verified on the chain.</summary>
    public required double? GasPerVerifiedSequence { get; init; }

    public required string? WeiPerVerifiedSequence { get; init; }

    public required long? BareSubmitProofHashGas { get; init; }

    public required long? BareVerifyBatchesGas { get; init; }

    /// <summary>One bare <c>submitProofHash</c> + one bare <c>verifyBatches</c>.</summary>
    public required long? BareGasPerSequence { get; init; }

    /// <summary><see cref="GasPerVerifiedSequence"/> ÷ <see cref="BareGasPerSequence"/> (1.0 = nothing spent beyond the two bare transactions).</summary>
    public required double? GasRatio { get; init; }
}
