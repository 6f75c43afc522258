using ZkPow.Devnet.Chain;
using static ZkPow.Devnet.Tests.Contracts.RollupDriver;

namespace ZkPow.Devnet.Tests.Contracts;

public sealed class SlashingTests(ChainFixture fixture) : IClassFixture<ChainFixture>, IAsyncLifetime
{
    private RollupDriver _d = null!;

    public async Task InitializeAsync() => _d = new RollupDriver(await fixture.ResetAsync());

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Sequence s: miner 0 and miner 1 commit, miner 0 proves, miner 1 keeps quiet; returns s and its round start.</summary>
    private async Task<(TestSequence S, ulong Start)> OneMinerLeavesItsCommitmentUnrevealedAsync()
    {
        var s = await _d.SequenceAsync();
        await _d.CommitAsync(_d.Miner(0), s);
        await _d.CommitAsync(_d.Miner(1), s);
        var start = await _d.RoundStartAsync(s);
        await _d.NextTxInBlockAsync(start + T1);
        Assert.True(Verified(await _d.RevealAsync(_d.Miner(0), s)));
        return (s, start);
    }

    private static void AssertUnrevealedSlash(TxReceipt receipt, DevAccount prover, TestSequence s)
    {
        var slash = Assert.Single(Slashes(receipt));
        Assert.Equal((prover.Address.ToLowerInvariant(), s.FinalNewBatch, Wei.FromEther(5), 2), (slash.Prover, slash.Final, slash.Amount, slash.Reason));
    }

    [Fact]
    public async Task an_unrevealed_commitment_is_slashed_at_the_committers_next_hash()
    {
        var (s, start) = await OneMinerLeavesItsCommitmentUnrevealedAsync();
        var next = await _d.SequenceAsync();
        var pool = await _d.PoolAsync();

        // Not yet: the round is not over.
        await _d.NextTxInBlockAsync(start + T1 + T2);
        Assert.Empty(Slashes(await _d.CommitAsync(_d.Miner(1), next)));
        Assert.Equal(Wei.FromEther(100), await _d.StakeAsync(_d.Miner(1)));

        var third = await _d.SequenceAsync(); // from here on, the round is over
        var receipt = await _d.CommitAsync(_d.Miner(1), third);
        AssertUnrevealedSlash(receipt, _d.Miner(1), s);
        Assert.Equal(Wei.FromEther(95), await _d.StakeAsync(_d.Miner(1)));
        Assert.Equal(pool + Wei.FromEther(5), await _d.PoolAsync());
        Assert.Equal([next.FinalNewBatch, third.FinalNewBatch], (await _d.OpenCommitmentsAsync(_d.Miner(1))).Select(b => (ulong)b).Order());

        // Once slashed, the commitment is closed: revealing it now is refused.
        Assert.Equal("CommittedProof", await RevertOfAsync(() => _d.RevealAsync(_d.Miner(1), s)));
    }

    [Fact]
    public async Task an_unrevealed_commitment_is_slashed_at_the_committers_next_reveal()
    {
        var first = await _d.SequenceAsync();
        var second = await _d.SequenceAsync();
        await _d.CommitAsync(_d.Miner(0), first);
        await _d.CommitAsync(_d.Miner(1), first);
        var start = await _d.RoundStartAsync(first);
        await _d.NextTxInBlockAsync(start + T1);
        await _d.RevealAsync(_d.Miner(0), first);
        await _d.CommitAsync(_d.Miner(1), second); // opens second's round at start + T1 + 1

        await _d.NextTxInBlockAsync(start + T1 + T2 + 1);
        var receipt = await _d.RevealAsync(_d.Miner(1), second);
        Assert.True(Verified(receipt));
        AssertUnrevealedSlash(receipt, _d.Miner(1), first);
        Assert.Single(Rewards(receipt));
    }

    [Fact]
    public async Task an_unrevealed_commitment_is_slashed_before_a_withdrawal()
    {
        var (s, start) = await OneMinerLeavesItsCommitmentUnrevealedAsync();
        await _d.NextTxInBlockAsync(start + T1 + T2 + 1);
        var receipt = await _d.WithdrawAsync(_d.Miner(1), Wei.FromEther(10));
        AssertUnrevealedSlash(receipt, _d.Miner(1), s);
        Assert.Equal(Wei.FromEther(85), await _d.StakeAsync(_d.Miner(1)));

        Assert.NotNull(await RevertOfAsync(() => _d.WithdrawAsync(_d.Miner(1), Wei.FromEther(86))));
        await _d.WithdrawAsync(_d.Miner(1), Wei.FromEther(85));
        Assert.Equal(0, await _d.StakeAsync(_d.Miner(1)));
    }

    [Fact]
    public async Task settle_slashes_an_overdue_commitment_and_only_the_prover_or_admin_may_call_it()
    {
        var (s, start) = await OneMinerLeavesItsCommitmentUnrevealedAsync();

        Assert.Empty(Slashes(await _d.SettleAsync(_d.Miner(1), _d.Miner(1)))); // round not over yet
        await _d.NextTxInBlockAsync(start + T1 + T2 + 1);
        Assert.Equal("OnlyProverOrAdmin", await RevertOfAsync(() => _d.SettleAsync(_d.Miner(2), _d.Miner(1))));
        AssertUnrevealedSlash(await _d.SettleAsync(_d.Admin, _d.Miner(1)), _d.Miner(1), s);
        Assert.Empty(Slashes(await _d.SettleAsync(_d.Miner(1), _d.Miner(1)))); // nothing left
        Assert.Empty(await _d.OpenCommitmentsAsync(_d.Miner(1)));
        Assert.Equal(Wei.FromEther(95), await _d.StakeAsync(_d.Miner(1)));
    }

    [Fact]
    public async Task the_prover_may_settle_itself()
    {
        var (s, start) = await OneMinerLeavesItsCommitmentUnrevealedAsync();
        await _d.NextTxInBlockAsync(start + T1 + T2 + 1);
        AssertUnrevealedSlash(await _d.SettleAsync(_d.Miner(1), _d.Miner(1)), _d.Miner(1), s);
    }

    [Fact]
    public async Task a_late_reveal_before_the_next_action_escapes_the_slash()
    {
        var (s, start) = await OneMinerLeavesItsCommitmentUnrevealedAsync();
        await _d.NextTxInBlockAsync(start + T1 + T2 + 10);
        var late = await _d.RevealAsync(_d.Miner(1), s);
        Assert.Empty(Slashes(late));
        Assert.Single(Rewards(late));

        var next = await _d.SequenceAsync();
        Assert.Empty(Slashes(await _d.CommitAsync(_d.Miner(1), next)));
        Assert.Empty(Slashes(await _d.SettleAsync(_d.Admin, _d.Miner(1))));
        Assert.Equal(Wei.FromEther(100), await _d.StakeAsync(_d.Miner(1)));
    }

    [Fact]
    public async Task a_round_that_expires_without_any_proof_slashes_every_committer()
    {
        var s = await _d.SequenceAsync();
        await _d.CommitAsync(_d.Miner(0), s);
        await _d.CommitAsync(_d.Miner(1), s);
        var start = await _d.RoundStartAsync(s);
        await _d.NextTxInBlockAsync(start + T1 + T2 + 1);
        Assert.Equal("SubmitProofTooLate", await RevertOfAsync(() => _d.RevealAsync(_d.Miner(0), s)));
        AssertUnrevealedSlash(await _d.SettleAsync(_d.Admin, _d.Miner(0)), _d.Miner(0), s);
        AssertUnrevealedSlash(await _d.SettleAsync(_d.Admin, _d.Miner(1)), _d.Miner(1), s);
    }

    [Fact]
    public async Task a_slash_takes_at_most_the_remaining_stake()
    {
        var outsider = _d.Extra(0);
        await _d.DepositAsync(outsider, Wei.FromEther(12));
        var s = await _d.SequenceAsync();
        await _d.CommitAsync(outsider, s);
        await _d.NextTxInBlockAsync(await _d.RoundStartAsync(s) + T1);
        var wrong = await _d.RevealAsync(outsider, s, proof: [1]);
        Assert.Equal(Wei.FromEther(10), Assert.Single(Slashes(wrong)).Amount);

        var next = await _d.SequenceAsync();
        await _d.DepositAsync(outsider, Wei.FromEther(8)); // back to the minimum
        await _d.CommitAsync(outsider, next);
        await _d.NextTxInBlockAsync(await _d.RoundStartAsync(next) + T1 + T2 + 1);
        var settle = await _d.SettleAsync(outsider, outsider);
        Assert.Equal(Wei.FromEther(5), Assert.Single(Slashes(settle)).Amount);
        Assert.Equal(Wei.FromEther(5), await _d.StakeAsync(outsider));
    }
}
