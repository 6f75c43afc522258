using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Tests.Hosting;

namespace ZkPow.Aggregator.Tests.Generator;

/// <summary>The generator's liveness and health keys: binding from operator text and validation naming the key.</summary>
public sealed class GeneratorOptionsTests
{
    private static AggregatorOptions Bind(params (string Key, string Value)[] values) => OperatorText.Bind(values);

    [Fact]
    public void the_liveness_and_health_keys_bind_from_durations_and_numbers()
    {
        var options = Bind(("Generator:MaxJobTime", "30m"), ("Generator:MaxJobTimeFactor", "6.5"), ("Generator:LeaseSweepInterval", "2s"),
            ("Generator:QuarantineAfter", "4"), ("Generator:QuarantineBase", "1m"), ("Generator:QuarantineMax", "2h"),
            ("Generator:MaxReprovesPerSequence", "2")).Generator;
        Assert.Equal(TimeSpan.FromMinutes(30), options.MaxJobTime);
        Assert.Equal(6.5, options.MaxJobTimeFactor);
        Assert.Equal(TimeSpan.FromSeconds(2), options.LeaseSweepInterval);
        Assert.Equal((4, TimeSpan.FromMinutes(1), TimeSpan.FromHours(2), 2),
            (options.QuarantineAfter, options.QuarantineBase, options.QuarantineMax, options.MaxReprovesPerSequence));
    }

    [Theory]
    [InlineData("Generator:MaxJobTime", "10ms")]
    [InlineData("Generator:MaxJobTimeFactor", "1")]
    [InlineData("Generator:LeaseSweepInterval", "1h")]
    [InlineData("Generator:QuarantineAfter", "0")]
    [InlineData("Generator:QuarantineBase", "0")]
    [InlineData("Generator:QuarantineMax", "1s")]
    [InlineData("Generator:MaxReprovesPerSequence", "-1")]
    public void an_out_of_range_value_is_refused_naming_its_key(string key, string value)
    {
        Assert.Equal(key, Assert.Throws<OptionsException>(() => Bind((key, value))).Key);
    }
}
