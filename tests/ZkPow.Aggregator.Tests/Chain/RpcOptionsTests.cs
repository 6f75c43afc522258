using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Tests.Hosting;

namespace ZkPow.Aggregator.Tests.Chain;

/// <summary>The endpoint lists and retry keys: binding, union with the single URL, validation without leaking secrets.</summary>
public sealed class RpcOptionsTests
{
    private static AggregatorOptions Bind(params (string Key, string Value)[] values) => OperatorText.Bind(values);

    [Fact]
    public void rpc_urls_are_a_list_or_a_comma_separated_value_and_join_the_single_url_without_duplicates()
    {
        var array = Bind(("Chain:RpcUrl", "http://a:8545"), ("Chain:RpcUrls:0", "http://b:8545/KEY"), ("Chain:RpcUrls:1", "http://a:8545"));
        Assert.Equal(["http://a:8545", "http://b:8545/KEY"], array.Chain.AllRpcUrls());

        var comma = Bind(("Sync:RollupNodeUrl", "http://n0:8123"), ("Sync:RollupNodeUrls", "http://n1:8123, http://n2:8123"));
        Assert.Equal(["http://n0:8123", "http://n1:8123", "http://n2:8123"], comma.Sync.AllRollupNodeUrls());

        // Only the list: the single key's default is not one of the endpoints.
        Assert.Equal(["https://c.example"], new ZkPow.Aggregator.Chain.ChainOptions { RpcUrls = ["https://c.example"] }.AllRpcUrls());
        var listOnly = Bind(("Chain:RpcUrls", "https://a.example/KEY,https://b.example"));
        Assert.Equal(["https://a.example/KEY", "https://b.example"], listOnly.Chain.AllRpcUrls());
        Assert.Equal(["http://127.0.0.1:8123"], listOnly.Sync.AllRollupNodeUrls());
    }

    [Fact]
    public void retry_keys_are_durations_and_are_checked()
    {
        var options = Bind(("Chain:CallBudget", "45s"), ("Chain:RetryBaseDelay", "50ms"), ("Chain:RetryMaxDelay", "1s"), ("Sync:RollupNodeTimeout", "3s"));
        var retry = options.Sync.RetryOptions(options.Chain);
        Assert.Equal((TimeSpan.FromSeconds(45), TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3)),
            (retry.CallBudget, retry.RetryBaseDelay, retry.RetryMaxDelay, retry.RequestTimeout));

        Assert.Equal("Chain:CallBudget", Assert.Throws<OptionsException>(() => Bind(("Chain:CallBudget", "100ms"))).Key);
        Assert.Equal("Chain:RetryMaxDelay", Assert.Throws<OptionsException>(() => Bind(("Chain:RetryBaseDelay", "3s"), ("Chain:RetryMaxDelay", "1s"))).Key);
    }

    [Fact]
    public void hedge_keys_reach_both_clients_and_are_checked()
    {
        var options = Bind(("Chain:HedgeAfter", "500ms"), ("Chain:HedgeMin", "100ms"));
        Assert.Equal((TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(100)), (options.Chain.RetryOptions().HedgeAfter, options.Chain.RetryOptions().HedgeMin));
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.Sync.RetryOptions(options.Chain).HedgeAfter);
        Assert.Equal(TimeSpan.Zero, Bind(("Chain:HedgeAfter", "0")).Chain.RetryOptions().HedgeAfter);

        Assert.Equal("Chain:HedgeAfter", Assert.Throws<OptionsException>(() => Bind(("Chain:HedgeAfter", "2m"))).Key);
        Assert.Equal("Chain:HedgeMin", Assert.Throws<OptionsException>(() => Bind(("Chain:HedgeMin", "1ms"))).Key);

        // The learned wait: twice the p95, between the floor and the ceiling; the ceiling while nothing is known.
        var retry = new ZkPow.Aggregator.Chain.RpcRetryOptions { HedgeAfter = TimeSpan.FromSeconds(1), HedgeMin = TimeSpan.FromMilliseconds(150) };
        Assert.Equal(TimeSpan.FromMilliseconds(150), retry.HedgeDelay(TimeSpan.FromMilliseconds(20)));
        Assert.Equal(TimeSpan.FromMilliseconds(600), retry.HedgeDelay(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(TimeSpan.FromSeconds(1), retry.HedgeDelay(TimeSpan.FromSeconds(2)));
        Assert.Equal(TimeSpan.FromSeconds(1), retry.HedgeDelay(null));
    }

    [Fact]
    public void a_bad_url_is_named_without_its_path()
    {
        var error = Assert.Throws<OptionsException>(() => Bind(("Chain:RpcUrls:0", "ftp://host:21/SECRET")));
        Assert.Equal("Chain:RpcUrls", error.Key);
        Assert.DoesNotContain("SECRET", error.Message, StringComparison.Ordinal);
    }
}
