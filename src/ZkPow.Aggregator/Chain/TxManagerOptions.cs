using System.Numerics;

namespace ZkPow.Aggregator.Chain;

/// <summary>How the transaction manager sends, watches and re-prices transactions.</summary>
public sealed class TxManagerOptions
{
    /// <summary>Blocks a transaction must be under (its own block counts as 1) before it is confirmed. Example: 3.</summary>
    public int Confirmations { get; set; } = 3;

    /// <summary>How often receipts, the head and the account nonce are polled. Example: <c>200ms</c>.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>A transaction pending this long since its last broadcast is re-broadcast if the node lost it, else
    /// replaced with higher fees. Example: <c>30s</c>.</summary>
    public TimeSpan StuckAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Percent by which a replacement raises both fees; at least the node's replacement rule (10% for geth).
    /// Example: 12.5.</summary>
    public decimal FeeBumpPercent { get; set; } = 12.5m;

    /// <summary>Highest <c>maxFeePerGas</c> (or gas price) ever signed, in wei per gas. Example: 500000000000 (500 gwei).</summary>
    public BigInteger MaxFeePerGas { get; set; } = new(500_000_000_000);

    /// <summary>Highest <c>maxFeePerGas</c> for a transaction with a deadline: a reveal whose round end approaches, or a
    /// cancel that keeps a stale hash off the chain (a slash costs more than gas), in wei per gas; at least
    /// <see cref="MaxFeePerGas"/>. Example: 2000000000000 (2000 gwei).</summary>
    public BigInteger EmergencyMaxFeePerGas { get; set; } = new(2_000_000_000_000);

    /// <summary>The estimated gas is multiplied by this to get the gas limit. Example: 1.25.</summary>
    public double GasLimitMultiplier { get; set; } = 1.25;

    /// <summary>
    /// The multiplier of a kind of transaction, in place of <see cref="GasLimitMultiplier"/>. By default the two rollup
    /// calls get 2, because their gas depends on the order of the calls of all miners, which the estimate cannot know:
    /// the first hash of a round opens it and the first reveal of a sequence records it as verified (each about 40,000 to
    /// 50,000 gas more than the calls after it), and either call settles the miner's overdue commitments first. A call
    /// estimated after another miner's went in runs out of gas if a reorg, or the order within a block, puts it first.
    /// Gas that a limit leaves unused is not paid for. Example: <c>"TxManager:GasLimitMultipliers:verifyBatches": 3</c>.
    /// </summary>
    public Dictionary<string, double> GasLimitMultipliers { get; set; } = new(StringComparer.Ordinal)
    {
        ["submitProofHash"] = 2.0,
        ["verifyBatches"] = 2.0,
    };

    public void Validate()
    {
        if (Confirmations is < 1 or > 1000)
        {
            throw new OptionsException("TxManager:Confirmations", "must be between 1 and 1000");
        }

        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromMinutes(1))
        {
            throw new OptionsException("TxManager:PollInterval", "must be between 10ms and 1m");
        }

        if (StuckAfter < TimeSpan.FromMilliseconds(100))
        {
            throw new OptionsException("TxManager:StuckAfter", "must be at least 100ms");
        }

        if (FeeBumpPercent is < 10m or > 1000m)
        {
            throw new OptionsException("TxManager:FeeBumpPercent", "must be between 10 (the node's replacement rule) and 1000");
        }

        if (MaxFeePerGas <= 0)
        {
            throw new OptionsException("TxManager:MaxFeePerGas", "must be positive");
        }

        if (EmergencyMaxFeePerGas < MaxFeePerGas)
        {
            throw new OptionsException("TxManager:EmergencyMaxFeePerGas", "must be at least TxManager:MaxFeePerGas");
        }

        if (!(GasLimitMultiplier >= 1.0 && GasLimitMultiplier <= 10.0))
        {
            throw new OptionsException("TxManager:GasLimitMultiplier", "must be between 1 and 10");
        }

        foreach (var (kind, multiplier) in GasLimitMultipliers)
        {
            if (!(multiplier >= 1.0 && multiplier <= 10.0))
            {
                throw new OptionsException($"TxManager:GasLimitMultipliers:{kind}", "must be between 1 and 10");
            }
        }
    }
}
