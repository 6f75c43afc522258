using ZkPow.Aggregator;
using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Tests.Hosting;

namespace ZkPow.Aggregator.Tests.Chain;

/// <summary>The gas limit margins by kind of transaction: defaults, binding from operator text, validation naming the key.</summary>
public sealed class GasLimitOptionsTests
{
    private static AggregatorOptions Bind(params (string Key, string Value)[] values) => OperatorText.Bind(values);

    [Fact]
    public void the_rollup_calls_get_twice_their_estimate_by_default_and_other_kinds_the_common_margin()
    {
        var options = Bind().TxManager;
        Assert.Equal(1.25, options.GasLimitMultiplier);
        Assert.Equal(new Dictionary<string, double> { ["submitProofHash"] = 2.0, ["verifyBatches"] = 2.0 }, options.GasLimitMultipliers);
    }

    [Fact]
    public void margins_by_kind_bind_from_keys_and_keep_the_defaults_they_do_not_name()
    {
        var options = Bind(("TxManager:GasLimitMultipliers:submitProofHash", "1.5"), ("TxManager:GasLimitMultipliers:deposit", "1.1")).TxManager;
        Assert.Equal(new Dictionary<string, double> { ["verifyBatches"] = 2.0, ["submitProofHash"] = 1.5, ["deposit"] = 1.1 }, options.GasLimitMultipliers);

        options = Bind(("TxManager:GasLimitMultipliers:verifyBatches", "3")).TxManager;
        Assert.Equal(3.0, options.GasLimitMultipliers["verifyBatches"]);
    }

    [Theory]
    [InlineData("TxManager:GasLimitMultipliers:verifyBatches", "0.9", "TxManager:GasLimitMultipliers:verifyBatches")]
    [InlineData("TxManager:GasLimitMultipliers:verifyBatches", "lots", "TxManager:GasLimitMultipliers:verifyBatches")]
    [InlineData("TxManager:GasLimitMultipliers", "2", "TxManager:GasLimitMultipliers")]
    public void a_bad_margin_is_refused_naming_its_key(string key, string value, string named)
    {
        var error = Assert.Throws<OptionsException>(() => Bind((key, value)).Validate());
        Assert.Equal(named, error.Key);
    }
}
