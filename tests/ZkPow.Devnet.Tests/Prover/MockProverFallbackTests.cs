using System.Net;
using System.Net.Sockets;
using ZkPow.Devnet.Prover;

namespace ZkPow.Devnet.Tests.Prover;

/// <summary>A mock prover given several aggregator addresses (replicas) moves on to the next one when a connection fails
/// or its stream ends, as a TCP load balancer in front of the replicas would.</summary>
public sealed class MockProverFallbackTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task a_prover_whose_first_aggregator_is_down_dials_the_next_one()
    {
        await using var live = await TestAggregatorServer.StartAsync();
        await using var prover = new MockProver(new MockProverOptions
        {
            Aggregator = new Uri($"http://127.0.0.1:{FreePort()}"),
            FallbackAggregators = [live.Address],
            Name = "balanced",
            ReconnectDelay = TimeSpan.FromMilliseconds(20),
        });
        var run = prover.RunAsync();
        var stream = await live.AcceptAsync(Wait);
        var reply = await stream.SendAsync(Requests.GetStatus());
        Assert.Equal("balanced", reply.GetStatusResponse.ProverName);
        Assert.Equal(live.Address, prover.CurrentAggregator);
        await prover.StopAsync();
        await run;
    }

    [Fact]
    public async Task a_prover_whose_stream_ends_moves_on_to_the_next_aggregator_and_wraps_round()
    {
        await using var first = await TestAggregatorServer.StartAsync();
        await using var second = await TestAggregatorServer.StartAsync();
        await using var prover = new MockProver(new MockProverOptions
        {
            Aggregator = first.Address,
            FallbackAggregators = [second.Address],
            Name = "balanced",
            ReconnectDelay = TimeSpan.FromMilliseconds(20),
        });
        var run = prover.RunAsync();
        var onFirst = await first.AcceptAsync(Wait);
        var instance = (await onFirst.SendAsync(Requests.GetStatus())).GetStatusResponse.ProverId;

        onFirst.Close();
        var onSecond = await second.AcceptAsync(Wait);
        Assert.Equal(instance, (await onSecond.SendAsync(Requests.GetStatus())).GetStatusResponse.ProverId);

        onSecond.Close();
        var again = await first.AcceptAsync(Wait);
        Assert.Equal("balanced", (await again.SendAsync(Requests.GetStatus())).GetStatusResponse.ProverName);
        await prover.StopAsync();
        await run;
    }

    [Fact]
    public void a_fallback_address_with_another_scheme_is_refused()
    {
        var options = new MockProverOptions { Aggregator = new Uri("http://127.0.0.1:1"), FallbackAggregators = [new Uri("https://127.0.0.1:2")] };
        Assert.Throws<ArgumentException>(options.Validate);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
