using ZkPow.Aggregator;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Devnet.Tests.Sync;

public sealed class SyncOptionsTests
{
    [Fact]
    public void the_defaults_are_valid() => new SyncOptions().Validate();

    [Theory]
    [InlineData("RollupNodeUrl", "Sync:RollupNodeUrl")]
    [InlineData("Confirmations", "Sync:Confirmations")]
    [InlineData("MaxBlockRange", "Sync:MaxBlockRange")]
    [InlineData("PollInterval", "Sync:PollInterval")]
    [InlineData("MaxBackoff", "Sync:MaxBackoff")]
    [InlineData("RollupNodeTimeout", "Sync:RollupNodeTimeout")]
    public void an_invalid_value_names_its_key(string property, string key)
    {
        var options = new SyncOptions();
        switch (property)
        {
            case "RollupNodeUrl": options.RollupNodeUrl = "ftp://node"; break;
            case "Confirmations": options.Confirmations = 5000; break;
            case "MaxBlockRange": options.MaxBlockRange = 0; break;
            case "PollInterval": options.PollInterval = TimeSpan.Zero; break;
            case "MaxBackoff": options.MaxBackoff = TimeSpan.FromMilliseconds(1); break;
            case "RollupNodeTimeout": options.RollupNodeTimeout = TimeSpan.FromHours(1); break;
        }

        Assert.Equal(key, Assert.Throws<OptionsException>(options.Validate).Key);
    }
}
