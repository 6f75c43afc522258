using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Protocol;
using ZkPow.Devnet.Proof;
using ZkPow.Devnet.Prover;
using ZkPow.Devnet.Tests.Proof;
using ProofResult = ZkPow.Aggregator.Protocol.GetProofResponse.Types.Result;

namespace ZkPow.Devnet.Tests.Prover;

public sealed class MockProverProtocolTests
{
    private static DevnetVectors V => DevnetVectors.Current;

    [Fact]
    public async Task get_status_handshake_reports_identity_and_idle()
    {
        await using var h = await ProverHarness.StartAsync(o =>
        {
            o.Name = "gpu-7";
            o.InstanceId = "instance-1";
            o.ForkId = 5;
        });
        var request = Requests.GetStatus();
        var reply = await h.Stream.SendAsync(request);

        Assert.Equal(request.Id, reply.Id);
        var status = reply.GetStatusResponse;
        Assert.NotNull(status);
        Assert.Equal(GetStatusResponse.Types.Status.Idle, status.Status);
        Assert.Equal("gpu-7", status.ProverName);
        Assert.Equal("instance-1", status.ProverId);
        Assert.Equal(5UL, status.ForkId);
        Assert.True(status.NumberOfCores > 0);
        Assert.Equal("", status.CurrentComputingRequestId);
        Assert.Empty(status.PendingRequestQueueIds);
        Assert.True(h.Prover.IsConnected);
        Assert.Equal(1, h.Prover.Counters.Connections);
    }

    [Fact]
    public async Task vector_sequence_gives_the_vector_final_proof()
    {
        await using var h = await ProverHarness.StartAsync();
        var sequence = V.BuildSequence();
        var b1 = await h.ProveRecursiveAsync(Requests.GenBatch(sequence.Batches[0].ToInputProver(V.ChainId, V.ForkId)));
        var b2 = await h.ProveRecursiveAsync(Requests.GenBatch(sequence.Batches[1].ToInputProver(V.ChainId, V.ForkId)));
        var b3 = await h.ProveRecursiveAsync(Requests.GenBatch(sequence.Batches[2].ToInputProver(V.ChainId, V.ForkId)));
        var a12 = await h.ProveRecursiveAsync(Requests.GenAggregated(b1, b2));
        var a123 = await h.ProveRecursiveAsync(Requests.GenAggregated(a12, b3));

        Assert.True(MockRecursiveProof.TryParse(a123, out var aggregated, out var error), error);
        Assert.Equal((0UL, 3UL), (aggregated.OldBatch, aggregated.NewBatch));
        Assert.Equal(HexData.Encode(V.NewStateRoot), aggregated.NewStateRoot);

        var finalJob = await h.StartJobAsync(Requests.GenFinal(a123, V.Aggregator));
        var response = await h.GetProofAsync(finalJob);
        Assert.Equal(ProofResult.CompletedOk, response.Result);
        Assert.Equal(finalJob, response.Id);
        Assert.Equal(GetProofResponse.ProofOneofCase.FinalProof, response.ProofCase);
        Assert.Equal(V.FinalProofHex, response.FinalProof.Proof);

        var pub = response.FinalProof.Public;
        Assert.Equal(V.OldStateRoot, pub.PublicInputs.OldStateRoot.ToByteArray());
        Assert.Equal(V.OldAccInputHash, pub.PublicInputs.OldAccInputHash.ToByteArray());
        Assert.Equal(V.InitNumBatch, pub.PublicInputs.OldBatchNum);
        Assert.Equal(V.ChainId, pub.PublicInputs.ChainId);
        Assert.Equal(V.ForkId, pub.PublicInputs.ForkId);
        Assert.Equal(V.Aggregator, pub.PublicInputs.AggregatorAddr);
        Assert.Equal(V.NewStateRoot, pub.NewStateRoot.ToByteArray());
        Assert.Equal(V.NewAccInputHash, pub.NewAccInputHash.ToByteArray());
        Assert.Equal(V.NewLocalExitRoot, pub.NewLocalExitRoot.ToByteArray());
        Assert.Equal(V.FinalNewBatch, pub.NewBatchNum);

        var counters = h.Prover.Counters;
        Assert.Equal(3, counters.BatchJobsStarted);
        Assert.Equal(2, counters.AggregatedJobsStarted);
        Assert.Equal(1, counters.FinalJobsStarted);
        Assert.Equal(1, counters.FinalProofRequests(0, 3));
        Assert.Equal(0, counters.FinalProofRequests(0, 2));
    }

    [Fact]
    public async Task aggregation_of_proofs_that_do_not_chain_is_refused()
    {
        await using var h = await ProverHarness.StartAsync();
        var sequence = V.BuildSequence();
        var b1 = await h.ProveRecursiveAsync(Requests.GenBatch(sequence.Batches[0].ToInputProver(V.ChainId, V.ForkId)));
        var b3 = await h.ProveRecursiveAsync(Requests.GenBatch(sequence.Batches[2].ToInputProver(V.ChainId, V.ForkId)));

        // Batch 2 proven on top of wrong roots: adjacent numbers, but the roots do not chain.
        var wrongInput = sequence.Batches[1].ToInputProver(V.ChainId, V.ForkId);
        wrongInput.PublicInputs.OldStateRoot = Google.Protobuf.ByteString.CopyFrom(V.GenesisStateRoot);
        var b2Wrong = await h.ProveRecursiveAsync(Requests.GenBatch(wrongInput));

        // Same range and roots, another coinbase.
        var otherCoinbase = sequence.Batches[1].ToInputProver(V.ChainId, V.ForkId);
        otherCoinbase.PublicInputs.SequencerAddr = V.Aggregator;
        var b2OtherCoinbase = await h.ProveRecursiveAsync(Requests.GenBatch(otherCoinbase));

        (string Lower, string Upper, string Reason)[] cases =
        [
            (b1, b3, "not adjacent"),
            (b3, b1, "not adjacent"),
            (b1, b2Wrong, "state roots do not chain"),
            (b1, b2OtherCoinbase, "different coinbases"),
            (b1, "12345", "unparseable"),
            (b1, b1.Replace(HexData.Encode(sequence.Batches[0].StateRoot)[2..], new string('0', 64), StringComparison.Ordinal), "invalid recursive proof"),
        ];
        foreach (var (lower, upper, reason) in cases)
        {
            var result = await h.GetProofAsync(await h.StartJobAsync(Requests.GenAggregated(lower, upper)));
            Assert.Equal(ProofResult.CompletedError, result.Result);
            Assert.Contains(reason, result.ResultString, StringComparison.Ordinal);
            Assert.Equal(GetProofResponse.ProofOneofCase.None, result.ProofCase);
        }
    }

    [Fact]
    public async Task batch_proof_is_computed_from_the_inputs()
    {
        await using var h = await ProverHarness.StartAsync();
        var batch = V.BuildSequence().Batches[1];
        var honest = await h.ProveRecursiveAsync(Requests.GenBatch(batch.ToInputProver(V.ChainId, V.ForkId)));
        var altered = batch.ToInputProver(V.ChainId, V.ForkId);
        altered.PublicInputs.EthTimestamp += 1;
        var other = await h.ProveRecursiveAsync(Requests.GenBatch(altered));

        Assert.True(MockRecursiveProof.TryParse(honest, out var p1, out _));
        Assert.True(MockRecursiveProof.TryParse(other, out var p2, out _));
        Assert.Equal(HexData.Encode(V.Batches[1].StateRoot), p1.NewStateRoot);
        Assert.Equal(HexData.Encode(V.Batches[1].AccInputHash), p1.NewAccInputHash);
        Assert.NotEqual(p1.NewStateRoot, p2.NewStateRoot);
        Assert.Equal((1UL, 2UL), (p1.OldBatch, p1.NewBatch));
    }

    [Fact]
    public async Task batch_for_another_fork_fails()
    {
        await using var h = await ProverHarness.StartAsync(o => o.ForkId = 7);
        var input = V.BuildSequence().Batches[0].ToInputProver(V.ChainId, 6);
        var result = await h.GetProofAsync(await h.StartJobAsync(Requests.GenBatch(input)));
        Assert.Equal(ProofResult.CompletedError, result.Result);
        Assert.Contains("fork id", result.ResultString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task jobs_stay_pending_until_their_latency_has_elapsed_in_fifo_order()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var h = await ProverHarness.StartAsync(o => o.BatchLatency = TimeSpan.FromMinutes(10), time);
        var sequence = V.BuildSequence();
        var job1 = await h.StartJobAsync(Requests.GenBatch(sequence.Batches[0].ToInputProver(V.ChainId, V.ForkId)));
        time.Advance(TimeSpan.FromMinutes(1));
        var job2 = await h.StartJobAsync(Requests.GenBatch(sequence.Batches[1].ToInputProver(V.ChainId, V.ForkId)));

        Assert.Equal(ProofResult.Pending, (await h.GetProofAsync(job1)).Result);
        Assert.Equal(ProofResult.Pending, (await h.GetProofAsync(job2)).Result);
        var status = await h.StatusAsync();
        Assert.Equal(GetStatusResponse.Types.Status.Computing, status.Status);
        Assert.Equal(job1, status.CurrentComputingRequestId);
        Assert.Equal([job2], status.PendingRequestQueueIds);

        time.Advance(TimeSpan.FromMinutes(9) - TimeSpan.FromSeconds(1));
        Assert.Equal(ProofResult.Pending, (await h.GetProofAsync(job1)).Result);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ProofResult.CompletedOk, (await h.GetProofAsync(job1)).Result);
        Assert.Equal(ProofResult.Pending, (await h.GetProofAsync(job2)).Result);
        status = await h.StatusAsync();
        Assert.Equal(job2, status.CurrentComputingRequestId);
        Assert.Equal(job1, status.LastComputedRequestId);
        Assert.Empty(status.PendingRequestQueueIds);

        // job2 started when job1 finished (10 min), not when it was accepted (1 min).
        time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
        Assert.Equal(ProofResult.Pending, (await h.GetProofAsync(job2)).Result);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ProofResult.CompletedOk, (await h.GetProofAsync(job2)).Result);
        Assert.Equal(GetStatusResponse.Types.Status.Idle, (await h.StatusAsync()).Status);
    }

    [Fact]
    public async Task finished_jobs_are_forgotten_after_the_retention_time()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UnixEpoch.AddDays(1));
        await using var h = await ProverHarness.StartAsync(o => o.JobRetention = TimeSpan.FromHours(1), time);
        var job = await h.StartJobAsync(Requests.GenBatch(V.BuildSequence().Batches[0].ToInputProver(V.ChainId, V.ForkId)));
        time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(ProofResult.CompletedOk, (await h.GetProofAsync(job)).Result);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(ProofResult.Error, (await h.GetProofAsync(job)).Result);
    }

    [Fact]
    public async Task unknown_job_id_gives_result_error()
    {
        await using var h = await ProverHarness.StartAsync();
        var response = await h.GetProofAsync(Guid.NewGuid().ToString());
        Assert.Equal(ProofResult.Error, response.Result);
        Assert.Equal("invalid UUID", response.ResultString);
        Assert.Equal(0, h.Prover.Counters.ProtocolViolations);

        await h.GetProofAsync("");
        Assert.Equal(1, h.Prover.Counters.ProtocolViolations);
    }

    [Fact]
    public async Task cancel_answers_ok_for_known_jobs_only()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UnixEpoch.AddDays(1));
        await using var h = await ProverHarness.StartAsync(o => o.BatchLatency = TimeSpan.FromMinutes(1), time);
        var job = await h.StartJobAsync(Requests.GenBatch(V.BuildSequence().Batches[0].ToInputProver(V.ChainId, V.ForkId)));

        var reply = await h.Stream.SendAsync(Requests.Cancel(job));
        Assert.Equal(Result.Ok, reply.CancelResponse.Result);
        Assert.Equal(ProofResult.Cancel, (await h.GetProofAsync(job)).Result);
        Assert.Equal(GetStatusResponse.Types.Status.Idle, (await h.StatusAsync()).Status);

        reply = await h.Stream.SendAsync(Requests.Cancel(Guid.NewGuid().ToString()));
        Assert.Equal(Result.Error, reply.CancelResponse.Result);
    }

    [Fact]
    public async Task failure_rate_one_fails_every_job()
    {
        await using var h = await ProverHarness.StartAsync(o =>
        {
            o.FailureRate = 1;
            o.Seed = 3;
        });
        var result = await h.GetProofAsync(await h.StartJobAsync(
            Requests.GenBatch(V.BuildSequence().Batches[0].ToInputProver(V.ChainId, V.ForkId))));
        Assert.Equal(ProofResult.CompletedError, result.Result);
    }

    [Fact]
    public async Task final_proof_with_bad_aggregator_address_fails()
    {
        await using var h = await ProverHarness.StartAsync();
        var b1 = await h.ProveRecursiveAsync(Requests.GenBatch(V.BuildSequence().Batches[0].ToInputProver(V.ChainId, V.ForkId)));
        var result = await h.GetProofAsync(await h.StartJobAsync(Requests.GenFinal(b1, "0x1234")));
        Assert.Equal(ProofResult.CompletedError, result.Result);

        result = await h.GetProofAsync(await h.StartJobAsync(Requests.GenFinal("not a proof", V.Aggregator)));
        Assert.Equal(ProofResult.CompletedError, result.Result);
        Assert.Equal(1, h.Prover.Counters.FinalProofRequests(0, 1));
        Assert.Equal(2, h.Prover.Counters.FinalJobsStarted);
    }
}
