using System.Numerics;

namespace ZkPow.Aggregator.Chain;

/// <summary>The fees a transaction was signed with, in wei per gas. A legacy transaction has one gas price
/// (stored in both fields).</summary>
public readonly record struct TxFees(BigInteger MaxFeePerGas, BigInteger MaxPriorityFeePerGas, bool Legacy)
{
    /// <summary>Both fees raised by <paramref name="percent"/> (rounded up).</summary>
    public TxFees BumpedBy(decimal percent)
    {
        var factor = (BigInteger)Math.Round(percent * 1000m);
        static BigInteger Up(BigInteger value, BigInteger f) => (value * (100_000 + f) + 99_999) / 100_000;
        return this with { MaxFeePerGas = Up(MaxFeePerGas, factor), MaxPriorityFeePerGas = Up(MaxPriorityFeePerGas, factor) };
    }

    public override string ToString() => Legacy ? $"gasPrice {MaxFeePerGas}" : $"maxFee {MaxFeePerGas}, tip {MaxPriorityFeePerGas}";
}
