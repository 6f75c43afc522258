namespace ZkPow.Aggregator.Tests;

public sealed class DurationsTests
{
    [Theory]
    [InlineData("50ms", 50)]
    [InlineData("2s", 2000)]
    [InlineData("1m", 60000)]
    [InlineData("1m30s", 90000)]
    [InlineData("0", 0)]
    [InlineData("0ms", 0)]
    [InlineData("1.5s", 1500)]
    [InlineData("30d", 2_592_000_000)]
    public void parses_operator_durations(string text, double ms)
    {
        Assert.True(Durations.TryParse(text, out var value));
        Assert.Equal(ms, value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("5 minutes")]
    [InlineData("ms")]
    [InlineData("-1s")]
    public void refuses_what_is_not_a_duration(string text)
    {
        Assert.False(Durations.TryParse(text, out _));
        var error = Assert.Throws<OptionsException>(() => Durations.Parse(text, "Bench:Latency"));
        Assert.Contains("Bench:Latency", error.Message);
    }
}
