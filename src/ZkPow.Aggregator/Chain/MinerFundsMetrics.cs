using System.Diagnostics.Metrics;

namespace ZkPow.Aggregator.Chain;

/// <summary>Gauges of the miner's funds (meter <c>ZkPow.Aggregator.Funds</c>), in ETH: nothing is reported before the first
/// reading.</summary>
public sealed class MinerFundsMetrics : IDisposable
{
    public const string MeterName = "ZkPow.Aggregator.Funds";

    private readonly Meter _meter;
    private MinerFundsReading? _last;

    public MinerFundsMetrics(IMeterFactory? meters = null)
    {
        _meter = meters?.Create(MeterName) ?? new Meter(MeterName);
        _meter.CreateObservableGauge("miner_balance", () => Read(r => r.BalanceWei), "ETH", "The miner's ETH balance (pays for gas)");
        _meter.CreateObservableGauge("miner_stake", () => Read(r => r.StakeWei), "ETH", "The miner's stake in the stake contract");
        _meter.CreateObservableGauge("miner_balance_warning", () => Read(r => r.BalanceWarningWei), "ETH",
            "Balance below which the aggregator warns (Sender:MinBalanceWarning)");
        _meter.CreateObservableGauge("miner_stake_warning", () => Read(r => r.StakeWarningWei), "ETH",
            "Stake below which the aggregator warns: the contract's minimum stake plus one unrevealed-commitment slash");
    }

    /// <summary>The last reading, or null before the first.</summary>
    public MinerFundsReading? Last => Volatile.Read(ref _last);

    internal void Record(MinerFundsReading reading) => Volatile.Write(ref _last, reading);

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<double>> Read(Func<MinerFundsReading, System.Numerics.BigInteger> value) =>
        Last is { } last ? [new Measurement<double>(MinerFundsReading.Eth(value(last)))] : [];
}
