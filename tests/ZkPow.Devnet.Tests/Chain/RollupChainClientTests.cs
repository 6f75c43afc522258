using System.Numerics;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Tests.Contracts;
using static ZkPow.Devnet.Tests.Contracts.RollupDriver;

namespace ZkPow.Devnet.Tests.Chain;

public sealed class RollupChainClientTests(ChainFixture fixture) : IClassFixture<ChainFixture>, IAsyncLifetime
{
    private RollupDriver _d = null!;
    private EthRpcClient _rpc = null!;
    private RollupChainClient _client = null!;

    public async Task InitializeAsync()
    {
        _d = new RollupDriver(await fixture.ResetAsync());
        _rpc = new EthRpcClient(_d.Chain.RpcUrl, TimeSpan.FromSeconds(5));
        _client = new RollupChainClient(_rpc, _d.Rollup);
    }

    public Task DisposeAsync()
    {
        _rpc.Dispose();
        return Task.CompletedTask;
    }

    private static ProofClaim Claim(TestSequence s) => new(s.InitNumBatch, s.FinalNewBatch, s.NewLocalExitRoot, s.OldStateRoot, s.NewStateRoot);

    [Fact]
    public async Task reads_the_round_windows_roots_identity_and_commitment()
    {
        var first = await _d.SequenceAsync(2);
        var s = await _d.SequenceAsync(3);
        var miner = _d.Miner(0);
        var open = await _client.GetSequenceAsync(s.FinalNewBatch, default);
        Assert.Equal(s.NewAccInputHash, open.AccInputHash);
        Assert.Equal((s.InitNumBatch, 0UL, false), (open.PreviousLastBatchSequenced, open.RoundStart, open.ProofSubmitted));
        Assert.True(open.Exists);
        Assert.False((await _client.GetSequenceAsync(99, default)).Exists);

        var commit = await _d.CommitAsync(miner, s);
        var round = await _client.GetSequenceAsync(s.FinalNewBatch, default);
        Assert.Equal(commit.BlockNumber, round.RoundStart);
        Assert.Equal(commit.BlockNumber, await _client.GetBlockNumberAsync(default));

        Assert.Equal(new ProofWindows(T1, T2), await _client.GetProofWindowsAsync(default));
        Assert.Equal(new RollupIdentity(1001, 6), await _client.GetRollupIdentityAsync(default));
        Assert.Equal(0UL, await _client.GetLastVerifiedBatchAsync(default));
        Assert.Equal(s.FinalNewBatch, await _client.GetLastBatchSequencedAsync(default));
        Assert.Equal(ContractTestProofs.GenesisStateRoot, await _client.GetStateRootAsync(0, default));

        var commitment = await _client.GetCommitmentAsync(s.FinalNewBatch, miner.Address, default);
        Assert.Equal(ContractTestProofs.ProofHash(RollupDriver.FinalProofFor(miner, s), miner.Address), commitment.ProofHash);
        Assert.Equal((commit.BlockNumber, false, true), (commitment.RoundStart, commitment.Proved, commitment.Exists));
        Assert.False((await _client.GetCommitmentAsync(s.FinalNewBatch, _d.Miner(1).Address, default)).Exists);

        await _d.ProveAsync(miner, first);
        Assert.Equal(first.FinalNewBatch, await _client.GetLastVerifiedBatchAsync(default));
        Assert.Equal(first.NewStateRoot, await _client.GetStateRootAsync(first.FinalNewBatch, default));
        Assert.True((await _client.GetSequenceAsync(first.FinalNewBatch, default)).ProofSubmitted);
        Assert.True((await _client.GetCommitmentAsync(first.FinalNewBatch, miner.Address, default)).Proved);
    }

    [Fact]
    public async Task snark_bytes_are_built_for_the_miner_and_the_verifier_tells_good_proofs_from_bad()
    {
        var s = await _d.SequenceAsync(2);
        var miner = _d.Miner(0);
        var bytes = await _client.GetInputSnarkBytesAsync(miner.Address, Claim(s), default);
        Assert.True(bytes.Succeeded);
        Assert.Equal(ContractTestProofs.SnarkInputPreimage(miner.Address, s), bytes.Value);

        var good = await _client.CheckProofAsync(miner.Address, Claim(s), RollupDriver.FinalProofFor(miner, s), default);
        Assert.True(good.Valid);
        Assert.Equal(ContractTestProofs.SnarkInput(bytes.Value!), good.SnarkInput);

        // Bound to another miner's address, a wrong root, or a corrupted encoding: all refused.
        Assert.False((await _client.CheckProofAsync(miner.Address, Claim(s), RollupDriver.FinalProofFor(_d.Miner(1), s), default)).Valid);
        Assert.False((await _client.CheckProofAsync(miner.Address, Claim(s) with { NewStateRoot = s.OldStateRoot }, RollupDriver.FinalProofFor(miner, s), default)).Valid);
        Assert.False((await _client.CheckProofAsync(miner.Address, Claim(s), [.. RollupDriver.FinalProofFor(miner, s)[..100]], default)).Valid);

        // The contract refuses to build an input for a sequence it does not know: the revert is a result.
        var unknown = await _client.CheckProofAsync(miner.Address, Claim(s) with { FinalNewBatch = 50 }, RollupDriver.FinalProofFor(miner, s), default);
        Assert.Equal(ChainError.NewAccInputHashDoesNotExist, unknown.Revert?.Error);
    }

    [Fact]
    public async Task custom_errors_decode_by_selector()
    {
        var s = await _d.SequenceAsync();
        var miner = _d.Miner(0);
        await _d.CommitAsync(miner, s);
        var start = await _d.RoundStartAsync(s);
        var proof = RollupDriver.FinalProofFor(miner, s);
        var reveal = RollupCalls.VerifyBatches(s.InitNumBatch, s.FinalNewBatch, s.NewLocalExitRoot, s.NewStateRoot, proof);

        var early = await _rpc.EthCallAsync(miner.Address, _d.Rollup, reveal, 0, "latest", default);
        Assert.Equal(ChainError.SubmitProofEarly, early.Revert?.Error);

        var other = _d.Miner(1);
        var otherHash = ProofHash.Compute(RollupDriver.FinalProofFor(other, s), other.Address);
        await _d.NextTxInBlockAsync(start + T1 + 1);
        var late = await _rpc.EthCallAsync(other.Address, _d.Rollup, RollupCalls.SubmitProofHash(s.InitNumBatch, s.FinalNewBatch, otherHash), 0,
            "pending", default);
        Assert.Equal(ChainError.CommittedTimeout, late.Revert?.Error);
        Assert.True(late.Revert!.HashWindowClosed);

        var range = await _rpc.EthCallAsync(other.Address, _d.Rollup, RollupCalls.SubmitProofHash(7, s.FinalNewBatch, otherHash), 0, "latest", default);
        Assert.Equal(ChainError.ErrSequencerRange, range.Revert?.Error);
        Assert.Equal([new BigInteger(7), new BigInteger(s.FinalNewBatch)], range.Revert!.Arguments);

        var notAdmin = await _rpc.EthCallAsync(miner.Address, _d.Rollup, ContractCalls.SetProofHashCommitEpoch(3), 0, "latest", default);
        Assert.Equal((ChainError.OnlyAdmin, "OnlyAdmin"), (notAdmin.Revert?.Error, notAdmin.Revert?.Name));

        Assert.Equal(ChainError.Unknown, ChainRevert.Decode("0xdeadbeef").Error);
        Assert.Equal(ChainError.Unknown, ChainRevert.Decode(null, "execution reverted").Error);
    }

    [Fact]
    public async Task events_in_a_block_range_are_decoded()
    {
        var from = await _client.GetBlockNumberAsync(default) + 1;
        var s = await _d.SequenceAsync(2);
        var honest = _d.Miner(0);
        var cheat = _d.Miner(1);
        await _d.CommitAsync(honest, s);
        await _d.CommitAsync(cheat, s);
        await _d.NextTxInBlockAsync(await _d.RoundStartAsync(s) + T1);
        await _d.RevealAsync(honest, s);
        await _d.RevealAsync(cheat, s, proof: [1, 2, 3]);
        await _d.Chain.SendAsync(_d.Admin, _d.Rollup, ContractCalls.SetProofHashCommitEpoch(7));
        await _d.Chain.SendAsync(_d.Admin, _d.Rollup, ContractCalls.SetProofCommitEpoch(11));
        var to = await _client.GetBlockNumberAsync(default);

        var events = await _client.GetEventsAsync(from, to, default);
        var sequenced = Assert.Single(events.OfType<SequenceBatchesEvent>());
        Assert.Equal(s.FinalNewBatch, sequenced.NumBatch);
        var hashes = events.OfType<SubmitProofHashEvent>().ToList();
        Assert.Equal([honest.Address.ToLowerInvariant(), cheat.Address.ToLowerInvariant()], hashes.Select(h => h.Prover));
        Assert.Equal((s.InitNumBatch, s.FinalNewBatch), (hashes[0].InitNumBatch, hashes[0].FinalNewBatch));
        Assert.Equal(ProofHash.Compute(RollupDriver.FinalProofFor(honest, s), honest.Address), hashes[0].ProofHash);
        var verified = Assert.Single(events.OfType<VerifyBatchesEvent>());
        Assert.Equal((s.FinalNewBatch, honest.Address.ToLowerInvariant()), (verified.NumBatch, verified.Aggregator));
        Assert.Equal(s.NewStateRoot, verified.StateRoot);
        var reward = Assert.Single(events.OfType<RewardPaidEvent>());
        Assert.Equal((honest.Address.ToLowerInvariant(), s.FinalNewBatch), (reward.Prover, reward.FinalNewBatch));
        Assert.True(reward.Amount > 0);
        var slash = Assert.Single(events.OfType<SlashedEvent>());
        Assert.Equal((cheat.Address.ToLowerInvariant(), s.FinalNewBatch, Wei.FromEther(10), (byte)1), (slash.Prover, slash.FinalNewBatch, slash.Amount, slash.Reason));
        Assert.Equal(7, Assert.Single(events.OfType<SetProofHashCommitEpochEvent>()).T1);
        Assert.Equal(11, Assert.Single(events.OfType<SetProofCommitEpochEvent>()).T2);
        Assert.True(events.Zip(events.Skip(1)).All(p => (p.First.BlockNumber, p.First.LogIndex).CompareTo((p.Second.BlockNumber, p.Second.LogIndex)) < 0));
        await _d.Chain.MineAsync(2);
        Assert.Empty(await _client.GetEventsAsync(to + 1, to + 2, default));
    }

    [Fact]
    public void call_data_and_proof_hash_match_the_devnet_encoders()
    {
        var miner = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
        byte[] root = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
        byte[] proof = [.. Enumerable.Range(0, 77).Select(i => (byte)(i * 3))];
        Assert.Equal(RollupCalls.SubmitProofHash(4, 9, root), RollupCalls.SubmitProofHash(4, 9, root));
        Assert.Equal(RollupCalls.VerifyBatches(4, 9, root, root, proof), RollupCalls.VerifyBatches(4, 9, root, root, proof));
        Assert.Equal(RollupCalls.Settle(miner), RollupCalls.Settle(miner));
        Assert.Equal(ContractTestProofs.ProofHash(proof, miner), ProofHash.Compute(proof, miner));
    }
}
