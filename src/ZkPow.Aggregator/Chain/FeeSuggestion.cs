namespace ZkPow.Aggregator.Chain;

/// <summary>The fees the node's latest block suggests (2 × base fee + tip, or the gas price on a chain without base fee):
/// <see cref="Capped"/> at <see cref="TxManagerOptions.MaxFeePerGas"/>, for new transactions and normal replacements, and
/// <see cref="Uncapped"/>, which a transaction with a deadline (an urgent one, a cancel) bids up to
/// <see cref="TxManagerOptions.EmergencyMaxFeePerGas"/>.</summary>
internal readonly record struct FeeSuggestion(TxFees Capped, TxFees Uncapped);
