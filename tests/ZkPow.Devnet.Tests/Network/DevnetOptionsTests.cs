using ZkPow.Devnet.Network;

namespace ZkPow.Devnet.Tests.Network;

public sealed class DevnetOptionsTests
{
    [Fact]
    public void the_defaults_are_sqlite_and_one_replica_without_kills()
    {
        var options = new DevnetOptions();
        options.Validate();
        Assert.Equal("sqlite", options.Store);
        Assert.False(options.IsPostgres);
        Assert.Equal(1, options.Replicas);
        Assert.False(options.KillsReplicas);
    }

    [Theory]
    [InlineData("postgres", 1)]
    [InlineData("postgres", 3)]
    [InlineData("POSTGRES", 16)]
    [InlineData("sqlite", 1)]
    public void a_store_with_its_replicas_is_accepted(string store, int replicas)
    {
        new DevnetOptions { Store = store, Replicas = replicas }.Validate();
    }

    [Theory]
    [InlineData("sqlite", 2, "--replicas above 1 needs --store postgres")]
    [InlineData("postgres", 0, "--replicas must be between 1 and 16")]
    [InlineData("postgres", 17, "--replicas must be between 1 and 16")]
    [InlineData("mysql", 1, "--store must be sqlite or postgres, not 'mysql'")]
    public void a_bad_store_or_replica_count_is_refused_with_a_clear_message(string store, int replicas, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => new DevnetOptions { Store = store, Replicas = replicas }.Validate());
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void replicas_do_not_go_with_an_external_aggregator()
    {
        var error = Assert.Throws<ArgumentException>(() => new DevnetOptions { Store = "postgres", Replicas = 2, ExternalAggregator = true }.Validate());
        Assert.Contains("--external-aggregator", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10s-20s", 10, 20)]
    [InlineData("500ms-2s", 0.5, 2)]
    [InlineData("5s", 5, 5)]
    public void kill_replicas_parses_min_max(string text, double min, double max)
    {
        var (parsedMin, parsedMax) = DevnetOptions.ParseKillReplicas(text);
        Assert.Equal(TimeSpan.FromSeconds(min), parsedMin);
        Assert.Equal(TimeSpan.FromSeconds(max), parsedMax);
    }

    [Theory]
    [InlineData("ten-twenty")]
    [InlineData("10s-20s-30s")]
    [InlineData("")]
    public void kill_replicas_refuses_what_is_not_min_max(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => DevnetOptions.ParseKillReplicas(text));
        Assert.Contains("--kill-replicas", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, 20, 10, "0 < MIN <= MAX")]
    [InlineData(2, 0, 10, "0 < MIN <= MAX")]
    [InlineData(1, 10, 20, "needs --replicas 2 or more")]
    public void kill_replicas_needs_a_valid_range_and_two_replicas(int replicas, int min, int max, string message)
    {
        var options = new DevnetOptions
        {
            Store = "postgres",
            Replicas = replicas,
            KillReplicasMin = TimeSpan.FromSeconds(min),
            KillReplicasMax = TimeSpan.FromSeconds(max),
        };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void kill_replicas_with_two_replicas_on_postgres_is_accepted()
    {
        var options = new DevnetOptions { Store = "postgres", Replicas = 2, KillReplicasMin = TimeSpan.FromSeconds(10), KillReplicasMax = TimeSpan.FromSeconds(20) };
        options.Validate();
        Assert.True(options.KillsReplicas);
    }
}
