using System.Net;
using System.Net.Sockets;
using ZkPow.Devnet.Prover;
using ZkPow.Devnet.Tests.Proof;
using ProofResult = ZkPow.Aggregator.Protocol.GetProofResponse.Types.Result;

namespace ZkPow.Devnet.Tests.Prover;

public sealed class MockProverConnectionTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private static DevnetVectors V => DevnetVectors.Current;

    [Fact]
    public async Task reconnects_with_the_same_instance_after_the_server_drops_the_stream()
    {
        await using var h = await ProverHarness.StartAsync();
        var before = (await h.StatusAsync()).ProverId;
        var job = await h.StartJobAsync(Requests.GenBatch(V.BuildSequence().Batches[0].ToInputProver(V.ChainId, V.ForkId)));

        h.Stream.Close();
        h.Stream = await h.Server.AcceptAsync(Wait);

        Assert.Equal(before, (await h.StatusAsync()).ProverId);
        Assert.Equal(ProofResult.CompletedOk, (await h.GetProofAsync(job)).Result);
        Assert.Equal(2, h.Prover.Counters.Connections);
        Assert.Equal(0, h.Prover.Counters.Restarts);
    }

    [Fact]
    public async Task keeps_reconnecting_while_the_aggregator_is_down()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        await using var prover = new MockProver(new MockProverOptions
        {
            Aggregator = new Uri($"http://127.0.0.1:{port}"),
            Name = "patient",
            ReconnectDelay = TimeSpan.FromMilliseconds(20),
        });
        var run = prover.RunAsync();
        var deadline = DateTime.UtcNow + Wait;
        while (prover.Counters.ConnectionAttempts < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.True(prover.Counters.ConnectionAttempts >= 3);
        Assert.Equal(0, prover.Counters.Connections);

        await using var server = await TestAggregatorServer.StartAsync(port);
        var stream = await server.AcceptAsync(Wait);
        var reply = await stream.SendAsync(Requests.GetStatus());
        Assert.Equal("patient", reply.GetStatusResponse.ProverName);
        await prover.StopAsync();
        await run;
    }

    [Fact]
    public async Task watchdog_drops_the_stream_when_the_aggregator_is_silent()
    {
        await using var h = await ProverHarness.StartAsync(o => o.Watchdog = TimeSpan.FromMilliseconds(300));

        Assert.True(await h.Stream.WaitForProverToLeaveAsync(Wait));
        Assert.True(h.Prover.Counters.WatchdogDrops >= 1);

        // Like a real prover it comes back.
        h.Stream = await h.Server.AcceptAsync(Wait);
        Assert.NotNull(await h.Stream.TrySendAsync(Requests.GetStatus(), Wait));
    }

    [Fact]
    public async Task watchdog_stays_quiet_while_the_aggregator_talks()
    {
        // The watchdog is generous enough for a cold start; the talk lasts more than twice its time.
        await using var h = await ProverHarness.StartAsync(o => o.Watchdog = TimeSpan.FromMilliseconds(1500));
        var talkUntil = DateTime.UtcNow + TimeSpan.FromMilliseconds(3500);
        while (DateTime.UtcNow < talkUntil)
        {
            Assert.NotNull(await h.Stream.TrySendAsync(Requests.GetStatus(), Wait));
            await Task.Delay(100);
        }

        Assert.Equal(0, h.Prover.Counters.WatchdogDrops);
        Assert.False(h.Server.TryAccept(out _));
        Assert.Equal(1, h.Prover.Counters.ConnectionAttempts);
    }

    [Fact]
    public async Task restart_gives_a_new_instance_id_and_forgets_jobs()
    {
        await using var h = await ProverHarness.StartAsync(o => o.InstanceId = "first");
        var job = await h.StartJobAsync(Requests.GenBatch(V.BuildSequence().Batches[0].ToInputProver(V.ChainId, V.ForkId)));

        h.Prover.Restart();
        Assert.True(await h.Stream.WaitForProverToLeaveAsync(Wait));
        h.Stream = await h.Server.AcceptAsync(Wait);

        var status = await h.StatusAsync();
        Assert.NotEqual("first", status.ProverId);
        Assert.Equal(h.Prover.InstanceId, status.ProverId);
        Assert.Equal("test-prover", status.ProverName);
        var lost = await h.GetProofAsync(job);
        Assert.Equal(ProofResult.Error, lost.Result);
        Assert.Equal(1, h.Prover.Counters.Restarts);
    }

    [Fact]
    public async Task oversized_request_drops_the_stream_and_the_prover_comes_back()
    {
        await using var h = await ProverHarness.StartAsync(o => o.MaxReceiveMessageSize = 4096);
        var input = V.BuildSequence().Batches[0].ToInputProver(V.ChainId, V.ForkId);
        input.PublicInputs.BatchL2Data = Google.Protobuf.ByteString.CopyFrom(new byte[8192]);

        Assert.Null(await h.Stream.TrySendAsync(Requests.GenBatch(input), Wait));
        Assert.True(await h.Stream.WaitForProverToLeaveAsync(Wait));
        Assert.Equal(0, h.Prover.Counters.BatchJobsStarted);

        h.Stream = await h.Server.AcceptAsync(Wait);
        Assert.NotNull(await h.Stream.TrySendAsync(Requests.GetStatus(), Wait));
    }

    [Fact]
    public async Task stop_ends_the_run()
    {
        await using var h = await ProverHarness.StartAsync();
        await h.Prover.StopAsync();
        await h.Run.WaitAsync(Wait);
        Assert.True(await h.Stream.WaitForProverToLeaveAsync(Wait));
        Assert.False(h.Prover.IsConnected);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => h.Prover.RunAsync());
    }
}
