using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Aggregator.Tests.Hosting;

/// <summary>The Generic Host composition in-process: the order of its parts, options validated at start, and a
/// start-up that waits for an unreachable chain (the operator endpoint answering 503) until it is stopped.</summary>
public sealed class AggregatorHostTests
{
    private static AggregatorOptions Options(TempDir dir) => new()
    {
        Store = { SqlitePath = dir.File("aggregator.db") },
        ProverServer = { Port = 0 },
        Http = { Port = 0 },
        Chain = { RpcUrl = "http://127.0.0.1:1", RollupAddress = "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
        Key = { DevPrivateKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" },
    };

    [Fact]
    public async Task the_parts_start_in_order_with_the_operator_endpoint_first_and_the_running_marker_last()
    {
        using var dir = new TempDir();
        await using var host = AggregatorHost.Create(Options(dir), NullLoggerFactory.Instance, TimeProvider.System);
        var order = host.Services.GetServices<IHostedService>().Select(s => s.GetType().Name).ToList();
        Assert.Equal(
        [
            nameof(OperatorEndpointService), nameof(StartupCheckService), nameof(StoreService), nameof(TxManagerService), nameof(FundsService), nameof(GeneratorService),
            nameof(SenderService), nameof(ProverServerService), nameof(SyncService), nameof(LeaderService), nameof(RunningService),
        ], order);
    }

    [Fact]
    public void an_invalid_option_is_refused_naming_the_key()
    {
        using var dir = new TempDir();
        var options = Options(dir);
        options.Provers.HeartbeatInterval = TimeSpan.FromSeconds(30);
        var error = Assert.Throws<OptionsException>(() => AggregatorHost.Create(options, NullLoggerFactory.Instance, TimeProvider.System));
        Assert.Equal("Provers:HeartbeatInterval", error.Key);
    }

    [Fact]
    public async Task start_up_waits_for_an_unreachable_chain_with_the_endpoint_answering_503_until_it_is_stopped()
    {
        using var dir = new TempDir();
        await using var host = AggregatorHost.Create(Options(dir), NullLoggerFactory.Instance, TimeProvider.System);
        using var stop = new CancellationTokenSource();
        var start = host.StartAsync(stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!host.Node.PhaseReason.StartsWith("waiting for the base chain's eth_chainId", StringComparison.Ordinal))
        {
            Assert.False(start.IsCompleted, start.Exception?.ToString());
            Assert.True(DateTime.UtcNow < deadline, host.Node.PhaseReason);
            await Task.Delay(50);
        }

        Assert.Equal(AggregatorPhase.Starting, host.Node.Phase);
        var address = host.StatusAddress;
        using var http = new HttpClient { BaseAddress = address };
        using (var ready = await http.GetAsync("health/ready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
            Assert.StartsWith("waiting for the base chain's eth_chainId at http://127.0.0.1:1",
                body.RootElement.GetProperty("checks").GetProperty("starting").GetString());
        }

        Assert.Equal("live\n", await http.GetStringAsync("health/live"));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => start);
        // What had started (the operator endpoint) is stopped again.
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("health/live"));
    }
}
