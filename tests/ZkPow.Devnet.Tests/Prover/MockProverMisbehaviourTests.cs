using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Protocol;
using ZkPow.Devnet.Proof;
using ZkPow.Devnet.Prover;
using ZkPow.Devnet.Tests.Proof;
using ProofResult = ZkPow.Aggregator.Protocol.GetProofResponse.Types.Result;

namespace ZkPow.Devnet.Tests.Prover;

public sealed class MockProverMisbehaviourTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private static DevnetVectors V => DevnetVectors.Current;

    private static AggregatorMessage FirstBatch() =>
        Requests.GenBatch(V.BuildSequence().Batches[0].ToInputProver(V.ChainId, V.ForkId));

    [Fact]
    public async Task forget_jobs_restarts_with_a_new_instance_id_and_loses_the_job()
    {
        await using var h = await ProverHarness.StartAsync(o => o.Misbehaviour = MockProverMisbehaviour.ForgetJobs);
        var first = (await h.StatusAsync()).ProverId;
        var job = await h.StartJobAsync(FirstBatch());

        Assert.True(await h.Stream.WaitForProverToLeaveAsync(Wait));
        h.Stream = await h.Server.AcceptAsync(Wait);
        var second = (await h.StatusAsync()).ProverId;

        Assert.NotEqual(first, second);
        var lost = await h.GetProofAsync(job);
        Assert.Equal(ProofResult.Error, lost.Result);
        Assert.Equal("invalid UUID", lost.ResultString);
    }

    [Fact]
    public async Task disconnect_mid_job_reconnects_with_the_same_instance_and_keeps_the_job()
    {
        await using var h = await ProverHarness.StartAsync(o => o.Misbehaviour = MockProverMisbehaviour.DisconnectMidJob);
        var first = (await h.StatusAsync()).ProverId;
        var job = await h.StartJobAsync(FirstBatch());

        Assert.True(await h.Stream.WaitForProverToLeaveAsync(Wait));
        h.Stream = await h.Server.AcceptAsync(Wait);

        Assert.Equal(first, (await h.StatusAsync()).ProverId);
        Assert.Equal(ProofResult.CompletedOk, (await h.GetProofAsync(job)).Result);
    }

    [Fact]
    public async Task stop_answering_goes_silent_after_accepting_a_job()
    {
        await using var h = await ProverHarness.StartAsync(o => o.Misbehaviour = MockProverMisbehaviour.StopAnswering);
        Assert.NotNull(await h.Stream.SendAsync(Requests.GetStatus()));
        await h.StartJobAsync(FirstBatch());

        Assert.Null(await h.Stream.TrySendAsync(Requests.GetStatus(), TimeSpan.FromMilliseconds(300)));
        Assert.False(h.Stream.CallCancelled.IsCancellationRequested);
    }

    [Fact]
    public async Task wrong_echo_id_echoes_another_id()
    {
        await using var h = await ProverHarness.StartAsync(o => o.Misbehaviour = MockProverMisbehaviour.WrongEchoId);
        var request = Requests.GetStatus();
        var reply = await h.Stream.SendAsync(request);
        Assert.NotEqual(request.Id, reply.Id);
        Assert.Equal(ProverMessage.ResponseOneofCase.GetStatusResponse, reply.ResponseCase);
    }

    [Fact]
    public async Task wrong_response_type_answers_get_proof_with_a_status()
    {
        await using var h = await ProverHarness.StartAsync(o => o.Misbehaviour = MockProverMisbehaviour.WrongResponseType);
        Assert.Equal(ProverMessage.ResponseOneofCase.GetStatusResponse, (await h.Stream.SendAsync(Requests.GetStatus())).ResponseCase);
        var reply = await h.Stream.SendAsync(Requests.GetProof(Guid.NewGuid().ToString()));
        Assert.Equal(ProverMessage.ResponseOneofCase.GetStatusResponse, reply.ResponseCase);
    }

    [Fact]
    public async Task empty_proof_completes_with_empty_proofs()
    {
        await using var h = await ProverHarness.StartAsync(o => o.Misbehaviour = MockProverMisbehaviour.EmptyProof);
        var batch = await h.GetProofAsync(await h.StartJobAsync(FirstBatch()));
        Assert.Equal(ProofResult.CompletedOk, batch.Result);
        Assert.Equal("", batch.RecursiveProof);
    }

    [Fact]
    public async Task wrong_final_proof_is_well_formed_but_does_not_verify()
    {
        await using var honest = await ProverHarness.StartAsync();
        var recursive = await honest.ProveRecursiveAsync(FirstBatch());

        await using var h = await ProverHarness.StartAsync(o => o.Misbehaviour = MockProverMisbehaviour.WrongFinalProof);
        var response = await h.GetProofAsync(await h.StartJobAsync(Requests.GenFinal(recursive, V.Aggregator)));
        Assert.Equal(ProofResult.CompletedOk, response.Result);

        var bytes = HexData.Decode(response.FinalProof.Proof);
        var decoded = DevnetFinalProofCodec.Decode(bytes);
        Assert.True(decoded.Success, decoded.Error);
        var batch = V.BuildSequence().Batches[0];
        Assert.NotEqual(batch.StateRoot, decoded.Proof.NewStateRoot);
        Assert.Equal(batch.AccInputHash, decoded.Proof.NewAccInputHash);

        var sender = HexData.DecodeAddress(V.Aggregator);
        var expectedInput = DevnetRules.SnarkInput(DevnetRules.SnarkInputPreimage(sender, batch.OldStateRoot,
            batch.OldAccInputHash, 0, V.ChainId, V.ForkId, batch.StateRoot, batch.AccInputHash, batch.LocalExitRoot, 1));
        Assert.False(DevnetVerifier.Verify(bytes, expectedInput));

        var honestFinal = await honest.GetProofAsync(await honest.StartJobAsync(Requests.GenFinal(recursive, V.Aggregator)));
        Assert.True(DevnetVerifier.Verify(HexData.Decode(honestFinal.FinalProof.Proof), expectedInput));
    }

    [Fact]
    public async Task pending_forever_accepts_a_job_and_never_finishes_it()
    {
        await using var h = await ProverHarness.StartAsync(o => o.Misbehaviour = MockProverMisbehaviour.PendingForever);
        var job = await h.StartJobAsync(FirstBatch());
        var request = Requests.GetProof(job);
        request.GetProofRequest.Timeout = 1; // a long poll that ends at its timeout, still pending
        var reply = await h.Stream.SendAsync(request);
        Assert.Equal(ProofResult.Pending, reply.GetProofResponse.Result);
        Assert.Equal(GetStatusResponse.Types.Status.Computing, (await h.StatusAsync()).Status);
        Assert.Equal(job, (await h.StatusAsync()).CurrentComputingRequestId);
    }

    [Fact]
    public async Task flapping_drops_the_stream_again_and_again_and_reconnects_with_its_jobs()
    {
        await using var h = await ProverHarness.StartAsync(o =>
        {
            o.Misbehaviour = MockProverMisbehaviour.Flapping;
            o.FlapInterval = TimeSpan.FromMilliseconds(300);
        });
        var first = (await h.StatusAsync()).ProverId;
        var job = await h.StartJobAsync(FirstBatch());
        for (var drop = 0; drop < 2; drop++)
        {
            Assert.True(await h.Stream.WaitForProverToLeaveAsync(Wait));
            h.Stream = await h.Server.AcceptAsync(Wait);
            Assert.Equal(first, (await h.StatusAsync()).ProverId);
        }

        Assert.Equal(ProofResult.CompletedOk, (await h.GetProofAsync(job)).Result);
        Assert.True(h.Prover.Counters.ConnectionAttempts >= 3);
    }

    [Fact]
    public async Task junk_recursive_proof_completes_ok_with_bytes_no_prover_can_aggregate()
    {
        await using var h = await ProverHarness.StartAsync(o => o.Misbehaviour = MockProverMisbehaviour.JunkRecursiveProof);
        var junk = await h.ProveRecursiveAsync(FirstBatch());
        Assert.NotEmpty(junk);
        Assert.False(MockRecursiveProof.TryParse(junk, out _, out _));

        await using var honest = await ProverHarness.StartAsync();
        var final = await honest.GetProofAsync(await honest.StartJobAsync(Requests.GenFinal(junk, V.Aggregator)));
        Assert.Equal(ProofResult.CompletedError, final.Result);
    }

    [Fact]
    public async Task fail_every_job_completes_every_job_with_an_error()
    {
        await using var h = await ProverHarness.StartAsync(o => o.Misbehaviour = MockProverMisbehaviour.FailEveryJob);
        for (var i = 0; i < 3; i++)
        {
            var proof = await h.GetProofAsync(await h.StartJobAsync(FirstBatch()));
            Assert.Equal(ProofResult.CompletedError, proof.Result);
            Assert.Equal("this prover fails every job", proof.ResultString);
        }
    }
}
