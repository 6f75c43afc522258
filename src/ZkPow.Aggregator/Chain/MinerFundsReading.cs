using System.Numerics;

namespace ZkPow.Aggregator.Chain;

/// <summary>One reading of the miner's funds, in wei: its ETH balance (gas), its stake in the stake contract, and the
/// levels below which each is reported as running low.</summary>
public sealed record MinerFundsReading(BigInteger BalanceWei, BigInteger StakeWei, BigInteger BalanceWarningWei, BigInteger StakeWarningWei)
{
    public bool BalanceLow => BalanceWei < BalanceWarningWei;

    public bool StakeLow => StakeWei < StakeWarningWei;

    /// <summary>Wei as ETH (for gauges and logs).</summary>
    public static double Eth(BigInteger wei) => (double)wei / 1e18;
}
