using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using static ZkPow.Devnet.Tests.Contracts.RollupDriver;

namespace ZkPow.Devnet.Tests.Contracts;

public sealed class VerifyBatchesTests(ChainFixture fixture) : IClassFixture<ChainFixture>, IAsyncLifetime
{
    private RollupDriver _d = null!;

    public async Task InitializeAsync() => _d = new RollupDriver(await fixture.ResetAsync());

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task a_reveal_without_a_hash_is_refused()
    {
        var s = await _d.SequenceAsync();
        await _d.CommitAsync(_d.Miner(0), s);
        await _d.NextTxInBlockAsync(await _d.RoundStartAsync(s) + T1);
        Assert.Equal("CommittedProofHash", await RevertOfAsync(() => _d.RevealAsync(_d.Miner(1), s)));
    }

    [Fact]
    public async Task a_proof_before_start_plus_t1_is_early_and_in_block_start_plus_t1_it_verifies()
    {
        var s = await _d.SequenceAsync(3);
        var miner = _d.Miner(0);
        await _d.CommitAsync(miner, s);
        var start = await _d.RoundStartAsync(s);

        await _d.NextTxInBlockAsync(start + T1 - 1);
        Assert.Equal("SubmitProofEarly", await RevertOfAsync(() => _d.RevealAsync(miner, s)));

        await _d.NextTxInBlockAsync(start + T1);
        var receipt = await _d.RevealAsync(miner, s);
        Assert.Equal(start + T1, receipt.BlockNumber);
        Assert.True(Verified(receipt));
        var verified = receipt.Logs.Single(l => l.Topics[0] == Topic("VerifyBatchesTrustedAggregator(uint64,bytes32,address)"));
        Assert.Equal(s.FinalNewBatch, (ulong)HexData.ParseQuantity(verified.Topics[1]));
        Assert.Equal(s.NewStateRoot, new AbiWords(verified.Data).Bytes32(0));
        Assert.EndsWith(miner.Address[2..].ToLowerInvariant(), verified.Topics[2], StringComparison.Ordinal);

        Assert.Equal(s.FinalNewBatch, await _d.LastVerifiedBatchAsync());
        Assert.Equal(s.NewStateRoot, await _d.StateRootAsync(s.FinalNewBatch));
        Assert.True(await _d.ProofSubmittedAsync(s));
        var commitment = await _d.Chain.ReadAsync(_d.Rollup, RollupCalls.ProverCommitProofHash(s.FinalNewBatch, miner.Address));
        Assert.True(commitment.Bool(2));
        Assert.Equal(Wei.FromEther(1), Assert.Single(Rewards(receipt)).Amount);
        Assert.Empty(await _d.OpenCommitmentsAsync(miner));
        Assert.Equal("CommittedProof", await RevertOfAsync(() => _d.RevealAsync(miner, s)));
    }

    [Fact]
    public async Task the_last_block_of_the_window_is_inside_and_the_next_is_too_late()
    {
        var s = await _d.SequenceAsync();
        await _d.CommitAsync(_d.Miner(0), s);
        await _d.CommitAsync(_d.Miner(1), s);
        var start = await _d.RoundStartAsync(s);

        await _d.NextTxInBlockAsync(start + T1 + T2 + 1);
        Assert.Equal("SubmitProofTooLate", await RevertOfAsync(() => _d.RevealAsync(_d.Miner(0), s)));

        // Same situation one block earlier: the reveal lands.
        await fixture.ResetAsync();
        _d = new RollupDriver(_d.Chain);
        s = await _d.SequenceAsync();
        await _d.CommitAsync(_d.Miner(0), s);
        start = await _d.RoundStartAsync(s);
        await _d.NextTxInBlockAsync(start + T1 + T2);
        Assert.True(Verified(await _d.RevealAsync(_d.Miner(0), s)));
    }

    [Fact]
    public async Task a_late_reveal_after_another_miners_proof_is_paid_and_not_slashed()
    {
        var s = await _d.SequenceAsync();
        await _d.CommitAsync(_d.Miner(0), s);
        await _d.CommitAsync(_d.Miner(1), s);
        var start = await _d.RoundStartAsync(s);
        await _d.NextTxInBlockAsync(start + T1 + 3);
        Assert.True(Verified(await _d.RevealAsync(_d.Miner(0), s)));

        await _d.NextTxInBlockAsync(start + T1 + T2 + 20);
        var late = await _d.RevealAsync(_d.Miner(1), s);
        Assert.True(late.Succeeded);
        Assert.False(Verified(late));
        Assert.Empty(Slashes(late));
        Assert.Equal(Wei.FromEther(1) / 2, Assert.Single(Rewards(late)).Amount);
        Assert.Equal(Wei.FromEther(100), await _d.StakeAsync(_d.Miner(1)));
    }

    [Fact]
    public async Task proofs_are_sequential_the_predecessor_must_be_verified()
    {
        var first = await _d.SequenceAsync();
        var second = await _d.SequenceAsync();
        await _d.CommitAsync(_d.Miner(0), second);
        await _d.NextTxInBlockAsync(await _d.RoundStartAsync(second) + T1);
        Assert.Equal("InitNumBatchAboveLastVerifiedBatch", await RevertOfAsync(() => _d.RevealAsync(_d.Miner(0), second)));

        await _d.ProveAsync(_d.Miner(1), first);
        Assert.True(Verified(await _d.RevealAsync(_d.Miner(0), second)));
        Assert.Equal(second.FinalNewBatch, await _d.LastVerifiedBatchAsync());
    }

    [Fact]
    public async Task a_state_root_outside_the_goldilocks_field_is_refused()
    {
        var s = await _d.SequenceAsync();
        await _d.CommitAsync(_d.Miner(0), s);
        await _d.NextTxInBlockAsync(await _d.RoundStartAsync(s) + T1);
        foreach (var limb in new[] { 0, 1, 2, 3 })
        {
            var root = (byte[])s.NewStateRoot.Clone();
            // 0xFFFFFFFF00000001 is the prime itself: the smallest value that is outside.
            byte[] prime = [0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01];
            prime.CopyTo(root, limb * 8);
            Assert.Equal("NewStateRootNotInsidePrime", await RevertOfAsync(() => _d.RevealAsync(_d.Miner(0), s, newStateRoot: root)));
        }
    }

    [Fact]
    public async Task a_reveal_for_the_wrong_range_is_refused()
    {
        var s = await _d.SequenceAsync(2);
        await _d.CommitAsync(_d.Miner(0), s);
        await _d.NextTxInBlockAsync(await _d.RoundStartAsync(s) + T1);
        Assert.Equal("ErrSequencerRange", await RevertOfAsync(() => _d.RevealAsync(_d.Miner(0), s, initNumBatch: 1)));
    }

    [Fact]
    public async Task a_reveal_that_does_not_match_the_hash_is_slashed_without_reverting()
    {
        var s = await _d.SequenceAsync();
        var miner = _d.Miner(0);
        await _d.CommitAsync(miner, s);
        await _d.NextTxInBlockAsync(await _d.RoundStartAsync(s) + T1);
        var pool = await _d.PoolAsync();

        var receipt = await _d.RevealAsync(miner, s, proof: [.. FinalProofFor(miner, s), 0]);
        Assert.True(receipt.Succeeded);
        Assert.False(Verified(receipt));
        Assert.Empty(Rewards(receipt));
        var slash = Assert.Single(Slashes(receipt));
        Assert.Equal((miner.Address.ToLowerInvariant(), s.FinalNewBatch, Wei.FromEther(10), 1), (slash.Prover, slash.Final, slash.Amount, slash.Reason));
        Assert.Equal(Wei.FromEther(90), await _d.StakeAsync(miner));
        Assert.Equal(pool + Wei.FromEther(10), await _d.PoolAsync()); // slashed stake goes into the reward pool
        Assert.Equal(0UL, await _d.LastVerifiedBatchAsync());
        Assert.Equal("CommittedProof", await RevertOfAsync(() => _d.RevealAsync(miner, s)));
    }

    [Fact]
    public async Task a_reveal_that_matches_the_hash_but_fails_the_verifier_is_slashed()
    {
        var s = await _d.SequenceAsync();
        var miner = _d.Miner(0);
        var lying = ContractTestProofs.FinalProof(miner.Address, s with { NewStateRoot = ContractTestProofs.Mask(ContractTestProofs.Keccak([7])) });
        await _d.CommitAsync(miner, s, lying);
        await _d.NextTxInBlockAsync(await _d.RoundStartAsync(s) + T1);

        var receipt = await _d.RevealAsync(miner, s, lying);
        Assert.True(receipt.Succeeded);
        Assert.Equal(1, Assert.Single(Slashes(receipt)).Reason);
        Assert.False(Verified(receipt));
        Assert.Equal(Wei.FromEther(90), await _d.StakeAsync(miner));
    }

    [Fact]
    public async Task a_proof_copied_from_another_miner_earns_nothing_and_is_slashed()
    {
        var s = await _d.SequenceAsync(2);
        var honest = _d.Miner(0);
        var copier = _d.Miner(2); // staked
        var honestProof = FinalProofFor(honest, s);
        var honestHash = ContractTestProofs.ProofHash(honestProof, honest.Address);

        await _d.CommitHashAsync(honest, s, honestHash);
        // The copier saw the honest hash in the mempool and commits it as is; a second copier commits a hash of the
        // honest proof bound to its own address (having seen the proof bytes).
        await _d.CommitHashAsync(copier, s, honestHash);
        var secondCopier = _d.Miner(1);
        await _d.CommitAsync(secondCopier, s, honestProof);
        await _d.NextTxInBlockAsync(await _d.RoundStartAsync(s) + T1);

        var honestReveal = await _d.RevealAsync(honest, s, honestProof);
        Assert.True(Verified(honestReveal));
        Assert.Equal(Wei.FromEther(1) / 3, Assert.Single(Rewards(honestReveal)).Amount);

        foreach (var thief in new[] { copier, secondCopier })
        {
            var stolen = await _d.RevealAsync(thief, s, honestProof);
            Assert.True(stolen.Succeeded);
            Assert.Empty(Rewards(stolen));
            Assert.Equal(1, Assert.Single(Slashes(stolen)).Reason);
            Assert.Equal(Wei.FromEther(90), await _d.StakeAsync(thief));
        }
    }

    [Fact]
    public async Task a_missing_genesis_root_means_the_old_state_root_does_not_exist()
    {
        await using var chain = await DevChain.StartAsync(new DevChainOptions { GenesisStateRoot = new byte[32], Miners = 1, ExtraAccounts = 2 });
        var d = new RollupDriver(chain);
        var s = await d.SequenceAsync();
        await d.CommitAsync(d.Miner(0), s);
        await d.NextTxInBlockAsync(await d.RoundStartAsync(s) + T1);
        Assert.Equal("OldStateRootDoesNotExist", await RevertOfAsync(() => d.RevealAsync(d.Miner(0), s)));
    }
}
