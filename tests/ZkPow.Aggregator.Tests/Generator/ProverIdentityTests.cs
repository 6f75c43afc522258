using System.Net;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Protocol;
using ZkPow.Aggregator.Tests.Protocol;
using ZkPow.Devnet.Proof;
using Kind = ZkPow.Aggregator.Protocol.AggregatorMessage.RequestOneofCase;

namespace ZkPow.Aggregator.Tests.Generator;

/// <summary>
/// A session belongs to (principal, name, instance id): a connection from another principal (here another loopback
/// address) that reports an honest prover's name and id is another prover, and takes over nothing.
/// </summary>
public sealed class ProverIdentityTests
{
    private static readonly IPAddress Elsewhere = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task a_spoofed_name_and_id_from_another_address_neither_closes_the_session_nor_takes_its_job()
    {
        await using var h = await GeneratorHarness.StartAsync();
        var honest = h.AddProver("gpu-1", o =>
        {
            o.InstanceId = "run-1";
            o.BatchLatency = TimeSpan.FromSeconds(2);
        });
        var sequence = await h.AddSequenceAsync(1);
        await GeneratorHarness.WaitUntilAsync(() => honest.Counters.BatchJobsStarted == 1, what: "the batch job started");

        await using var spoofer = new ScriptedProver(h.Server.Address, Impostor("gpu-1", "run-1"), ScriptedProver.From(Elsewhere));
        await GeneratorHarness.WaitUntilAsync(() => h.Generator.ConnectedProvers().Count == 2, what: "the second stream connected");
        await h.WaitForFinalsAsync(1);

        Assert.Equal(1, honest.Counters.Connections);
        Assert.Equal(1, honest.Counters.BatchJobsStarted);
        Assert.Empty(spoofer.Requests(Kind.GetProofRequest));
        Assert.Empty(spoofer.Requests(Kind.GenBatchProofRequest));
        var stored = await h.Store.GetFinalProofAsync(sequence.FinalNewBatch, CancellationToken.None);
        Assert.Equal(HexData.Encode(sequence.ToFinalProof(GeneratorHarness.Miner).Encode()), stored!.Proof, ignoreCase: true);
        Assert.Contains(h.Generator.ConnectedProvers(), p => p.Principal == "addr:127.0.0.2" && p.Name == "gpu-1");
    }

    [Fact]
    public async Task after_a_restart_a_job_waiting_for_its_prover_is_adopted_only_by_the_same_principal()
    {
        using var dir = new TempDir();
        var first = await GeneratorHarness.StartAsync(dir: dir);
        var port = first.Server.Port;
        var honest = first.AddProver("gpu-1", o =>
        {
            o.InstanceId = "run-1";
            o.BatchLatency = TimeSpan.FromSeconds(3);
            o.ReconnectDelay = TimeSpan.FromSeconds(2);
        });
        var sequence = await first.AddSequenceAsync(1);
        await GeneratorHarness.WaitUntilAsync(() => honest.Counters.BatchJobsStarted == 1, what: "the batch job started");
        await GeneratorHarness.WaitUntilAsync(() => GeneratorLivenessTests.BatchJobId(first) is not null, what: "the job id recorded");
        await first.DisposeAsync(keepDir: true, keepProvers: true);

        // While the honest prover waits to dial back, two impostors reach the restarted aggregator first: one with
        // its name and id (would adopt the job), one with its name and a new id (would declare its jobs lost).
        await using var second = await GeneratorHarness.StartAsync(dir: dir, port: port);
        await using var sameId = new ScriptedProver(second.Server.Address, Impostor("gpu-1", "run-1"), ScriptedProver.From(Elsewhere));
        await using var newId = new ScriptedProver(second.Server.Address, Impostor("gpu-1", "run-2"), ScriptedProver.From(Elsewhere));
        await GeneratorHarness.WaitUntilAsync(() => second.Generator.ConnectedProvers().Count >= 2, what: "the impostors connected");
        await second.WaitForFinalsAsync(1);
        await honest.StopAsync();
        await honest.DisposeAsync();

        Assert.Empty(sameId.Requests(Kind.GetProofRequest));
        Assert.Empty(newId.Requests(Kind.GetProofRequest));
        Assert.Equal(1, honest.Counters.BatchJobsStarted);
        Assert.Equal(1, honest.Counters.FinalProofRequests(sequence.InitNumBatch, sequence.FinalNewBatch));
        var stored = await second.Store.GetFinalProofAsync(sequence.FinalNewBatch, CancellationToken.None);
        Assert.Equal(HexData.Encode(sequence.ToFinalProof(GeneratorHarness.Miner).Encode()), stored!.Proof, ignoreCase: true);
    }

    /// <summary>Claims to be busy (so it is given no work of its own) and answers any poll with a junk proof.</summary>
    private static Func<AggregatorMessage, ProverMessage?> Impostor(string name, string instance) => request => request.RequestCase switch
    {
        Kind.GetStatusRequest => ScriptedProver.Status(request, name, instance, status: GetStatusResponse.Types.Status.Computing),
        Kind.GetProofRequest => new ProverMessage
        {
            Id = request.Id,
            GetProofResponse = new GetProofResponse
            {
                Id = request.GetProofRequest.Id,
                Result = GetProofResponse.Types.Result.CompletedOk,
                RecursiveProof = "junk",
            },
        },
        Kind.CancelRequest => new ProverMessage { Id = request.Id, CancelResponse = new CancelResponse { Result = Result.Ok } },
        _ => null,
    };
}
