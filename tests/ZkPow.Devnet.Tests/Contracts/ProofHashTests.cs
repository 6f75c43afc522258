using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using static ZkPow.Devnet.Tests.Contracts.RollupDriver;

namespace ZkPow.Devnet.Tests.Contracts;

public sealed class ProofHashTests(ChainFixture fixture) : IClassFixture<ChainFixture>, IAsyncLifetime
{
    private RollupDriver _d = null!;

    public async Task InitializeAsync() => _d = new RollupDriver(await fixture.ResetAsync());

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task the_first_hash_opens_the_round_and_records_the_commitment()
    {
        var s = await _d.SequenceAsync(2);
        var miner = _d.Miner(0);
        var proofHash = ContractTestProofs.ProofHash(FinalProofFor(miner, s), miner.Address);
        var receipt = await _d.CommitHashAsync(miner, s, proofHash);

        Assert.Equal(receipt.BlockNumber, await _d.RoundStartAsync(s));
        var commitment = await _d.Chain.ReadAsync(_d.Rollup, RollupCalls.ProverCommitProofHash(s.FinalNewBatch, miner.Address));
        Assert.Equal(proofHash, commitment.Bytes32(0));
        Assert.Equal(receipt.BlockNumber, commitment.UInt64(1));
        Assert.False(commitment.Bool(2));

        var log = Assert.Single(receipt.Logs);
        Assert.Equal(Topic("SubmitProofHash(address,uint64,uint64,bytes32)"), log.Topics[0]);
        var data = new AbiWords(log.Data);
        Assert.Equal(miner.Address, data.Address(0), StringComparer.OrdinalIgnoreCase);
        Assert.Equal(s.InitNumBatch, data.UInt64(1));
        Assert.Equal(s.FinalNewBatch, data.UInt64(2));
        Assert.Equal(proofHash, data.Bytes32(3));

        Assert.Equal(Wei.FromEther(100), await _d.RoundStakeTotalAsync(s));
        Assert.Equal([s.FinalNewBatch], (await _d.OpenCommitmentsAsync(miner)).Select(b => (ulong)b));
    }

    [Fact]
    public async Task hashes_are_accepted_until_start_plus_t1_and_refused_after()
    {
        var s = await _d.SequenceAsync();
        await _d.CommitAsync(_d.Miner(0), s);
        var start = await _d.RoundStartAsync(s);

        await _d.NextTxInBlockAsync(start + T1);
        var late = await _d.CommitAsync(_d.Miner(1), s);
        Assert.Equal(start + T1, late.BlockNumber);
        Assert.Equal(start, await _d.RoundStartAsync(s));
        Assert.Equal(Wei.FromEther(200), await _d.RoundStakeTotalAsync(s));

        Assert.Equal("CommittedTimeout", await RevertOfAsync(() => _d.CommitAsync(_d.Miner(2), s)));
    }

    [Fact]
    public async Task a_miner_cannot_commit_twice_in_one_round()
    {
        var s = await _d.SequenceAsync();
        await _d.CommitAsync(_d.Miner(0), s);
        Assert.Equal("CommittedProofHash", await RevertOfAsync(() => _d.CommitAsync(_d.Miner(0), s, proof: [1, 2, 3])));
    }

    [Fact]
    public async Task a_stake_below_the_minimum_is_refused()
    {
        var s = await _d.SequenceAsync();
        var outsider = _d.Extra(0);
        Assert.Equal("InsufficientPledge", await RevertOfAsync(() => _d.CommitAsync(outsider, s)));
        await _d.DepositAsync(outsider, Wei.FromEther(10) - 1);
        Assert.Equal("InsufficientPledge", await RevertOfAsync(() => _d.CommitAsync(outsider, s)));
        await _d.DepositAsync(outsider, 1);
        Assert.True((await _d.CommitAsync(outsider, s)).Succeeded);
    }

    [Fact]
    public async Task a_range_that_is_not_a_sequence_is_refused()
    {
        var first = await _d.SequenceAsync(2);
        var second = await _d.SequenceAsync(2);
        var miner = _d.Miner(0);
        Assert.Equal("ErrSequencerRange", await RevertOfAsync(() => _d.CommitAsync(miner, second, initNumBatch: 1)));
        Assert.Equal("ErrSequencerRange", await RevertOfAsync(() => _d.CommitAsync(miner, second, initNumBatch: 0)));
        Assert.Equal("ErrSequencerRange", await RevertOfAsync(() => _d.CommitAsync(miner, first, finalNewBatch: 3)));
        Assert.Equal("ErrSequencerRange", await RevertOfAsync(() => _d.CommitAsync(miner, second, initNumBatch: 4, finalNewBatch: 9)));
        var e = await Assert.ThrowsAsync<ContractRevertException>(() => _d.CommitAsync(miner, second, initNumBatch: 1));
        Assert.Contains($"ErrSequencerRange(1, {second.FinalNewBatch})", e.Message, StringComparison.Ordinal);
        Assert.Equal(new ulong[] { 1, second.FinalNewBatch }, e.Revert.Arguments.Select(a => (ulong)a));
    }

    [Fact]
    public async Task a_verified_sequence_takes_no_more_hashes()
    {
        var s = await _d.SequenceAsync();
        await _d.ProveAsync(_d.Miner(0), s);
        Assert.Equal("CommittedProof", await RevertOfAsync(() => _d.CommitAsync(_d.Miner(1), s)));
        Assert.Equal("CommittedProof", await RevertOfAsync(() => _d.CommitAsync(_d.Miner(0), s)));
    }

    [Fact]
    public async Task hashes_may_be_committed_before_the_predecessor_is_verified()
    {
        await _d.SequenceAsync();
        var second = await _d.SequenceAsync();
        Assert.True((await _d.CommitAsync(_d.Miner(0), second)).Succeeded);
    }

    [Fact]
    public async Task an_expired_round_without_proof_is_reset_by_the_next_hash()
    {
        var s = await _d.SequenceAsync();
        await _d.CommitAsync(_d.Miner(0), s);
        var start = await _d.RoundStartAsync(s);

        // Still the same round at its last block: the hash window is closed.
        await _d.NextTxInBlockAsync(start + T1 + T2);
        Assert.Equal("CommittedTimeout", await RevertOfAsync(() => _d.CommitAsync(_d.Miner(1), s)));

        await _d.NextTxInBlockAsync(start + T1 + T2 + 1);
        var reopened = await _d.CommitAsync(_d.Miner(1), s);
        Assert.Equal(reopened.BlockNumber, await _d.RoundStartAsync(s));
        Assert.Equal(Wei.FromEther(100), await _d.RoundStakeTotalAsync(s));

        // The old round's hash cannot be revealed in the new round.
        await _d.NextTxInBlockAsync(reopened.BlockNumber + T1);
        Assert.Equal("ErrCommitProof", await RevertOfAsync(() => _d.RevealAsync(_d.Miner(0), s)));

        // Its committer may commit again in the new round (and pays for the unrevealed old commitment).
        var again = await _d.CommitAsync(_d.Miner(0), s);
        var slash = Assert.Single(Slashes(again));
        Assert.Equal((s.FinalNewBatch, Wei.FromEther(5), 2), (slash.Final, slash.Amount, slash.Reason));
    }
}
