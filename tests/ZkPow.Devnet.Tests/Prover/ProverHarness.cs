using ZkPow.Aggregator.Protocol;
using ZkPow.Devnet.Prover;

namespace ZkPow.Devnet.Tests.Prover;

/// <summary>A test server with one mock prover connected to it; <see cref="Stream"/> is the prover's first stream.</summary>
internal sealed class ProverHarness : IAsyncDisposable
{
    private ProverHarness(TestAggregatorServer server, MockProver prover, Task run, TestProverStream stream)
    {
        Server = server;
        Prover = prover;
        Run = run;
        Stream = stream;
    }

    public TestAggregatorServer Server { get; }

    public MockProver Prover { get; }

    public Task Run { get; }

    public TestProverStream Stream { get; set; }

    public static async Task<ProverHarness> StartAsync(Action<MockProverOptions>? configure = null, TimeProvider? time = null)
    {
        var server = await TestAggregatorServer.StartAsync();
        var options = new MockProverOptions
        {
            Aggregator = server.Address,
            Name = "test-prover",
            ReconnectDelay = TimeSpan.FromMilliseconds(50),
        };
        configure?.Invoke(options);
        var prover = new MockProver(options, time);
        var run = prover.RunAsync();
        var stream = await server.AcceptAsync();
        return new ProverHarness(server, prover, run, stream);
    }

    /// <summary>Starts a job and returns the prover's job id (asserting RESULT_OK).</summary>
    public async Task<string> StartJobAsync(AggregatorMessage request)
    {
        var reply = await Stream.SendAsync(request);
        Assert.Equal(request.Id, reply.Id);
        var (id, result) = reply.ResponseCase switch
        {
            ProverMessage.ResponseOneofCase.GenBatchProofResponse => (reply.GenBatchProofResponse.Id, reply.GenBatchProofResponse.Result),
            ProverMessage.ResponseOneofCase.GenAggregatedProofResponse => (reply.GenAggregatedProofResponse.Id, reply.GenAggregatedProofResponse.Result),
            ProverMessage.ResponseOneofCase.GenFinalProofResponse => (reply.GenFinalProofResponse.Id, reply.GenFinalProofResponse.Result),
            _ => throw new Xunit.Sdk.XunitException($"unexpected response {reply.ResponseCase}"),
        };
        Assert.Equal(Result.Ok, result);
        Assert.True(Guid.TryParse(id, out _), $"job id '{id}' is not a GUID");
        return id;
    }

    public async Task<GetProofResponse> GetProofAsync(string jobId)
    {
        var request = Requests.GetProof(jobId);
        var reply = await Stream.SendAsync(request);
        Assert.Equal(request.Id, reply.Id);
        Assert.Equal(ProverMessage.ResponseOneofCase.GetProofResponse, reply.ResponseCase);
        return reply.GetProofResponse;
    }

    /// <summary>Runs a recursive job to completion (zero latency) and returns the proof text.</summary>
    public async Task<string> ProveRecursiveAsync(AggregatorMessage request)
    {
        var proof = await GetProofAsync(await StartJobAsync(request));
        Assert.Equal(GetProofResponse.Types.Result.CompletedOk, proof.Result);
        Assert.Equal(GetProofResponse.ProofOneofCase.RecursiveProof, proof.ProofCase);
        return proof.RecursiveProof;
    }

    public async Task<GetStatusResponse> StatusAsync()
    {
        var reply = await Stream.SendAsync(Requests.GetStatus());
        Assert.Equal(ProverMessage.ResponseOneofCase.GetStatusResponse, reply.ResponseCase);
        return reply.GetStatusResponse;
    }

    public async ValueTask DisposeAsync()
    {
        await Prover.DisposeAsync();
        await Run;
        await Server.DisposeAsync();
    }
}
