using System.Numerics;
using ZkPow.Devnet.Chain;
using static ZkPow.Devnet.Tests.Contracts.RollupDriver;

namespace ZkPow.Devnet.Tests.Contracts;

public sealed class RewardTests(ChainFixture fixture) : IClassFixture<ChainFixture>, IAsyncLifetime
{
    private RollupDriver _d = null!;

    public async Task InitializeAsync() => _d = new RollupDriver(await fixture.ResetAsync());

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Stakes the miners to <paramref name="stakes"/>, lets them all commit and reveal, and checks every payment to the wei.</summary>
    private async Task AssertProRataAsync(BigInteger reward, params BigInteger[] stakes)
    {
        var miners = Enumerable.Range(0, stakes.Length).Select(_d.Miner).ToList();
        for (var i = 0; i < stakes.Length; i++)
        {
            var extra = stakes[i] - await _d.StakeAsync(miners[i]);
            if (extra > 0)
            {
                await _d.DepositAsync(miners[i], extra);
            }
        }

        var s = await _d.SequenceAsync(2);
        foreach (var miner in miners)
        {
            await _d.CommitAsync(miner, s);
        }

        var total = stakes.Aggregate(BigInteger.Zero, (a, b) => a + b);
        Assert.Equal(total, await _d.RoundStakeTotalAsync(s));
        await _d.NextTxInBlockAsync(await _d.RoundStartAsync(s) + T1);

        var poolBefore = await _d.PoolAsync();
        BigInteger paid = 0;
        for (var i = 0; i < miners.Count; i++)
        {
            var expected = reward * stakes[i] / total;
            var balance = await _d.Chain.GetBalanceAsync(miners[i].Address);
            var receipt = await _d.RevealAsync(miners[i], s);
            var payment = Assert.Single(Rewards(receipt));
            Assert.Equal((miners[i].Address.ToLowerInvariant(), s.FinalNewBatch, expected), payment);
            Assert.Equal(balance + expected - receipt.Fee, await _d.Chain.GetBalanceAsync(miners[i].Address));
            paid += expected;
        }

        Assert.Equal(poolBefore - paid, await _d.PoolAsync());
    }

    [Fact]
    public async Task two_stakers_are_paid_pro_rata_to_their_stakes() =>
        await AssertProRataAsync(Wei.FromEther(1), Wei.FromEther(100), Wei.FromEther(150));

    [Fact]
    public async Task three_stakers_are_paid_pro_rata_to_the_wei() =>
        await AssertProRataAsync(Wei.FromEther(1), Wei.FromEther(100), Wei.FromEther(133) + 7, Wei.FromEther(170) + 1);

    [Fact]
    public async Task the_share_of_a_committer_that_never_reveals_stays_in_the_pool()
    {
        var s = await _d.SequenceAsync();
        await _d.CommitAsync(_d.Miner(0), s);
        await _d.CommitAsync(_d.Miner(1), s);
        await _d.CommitAsync(_d.Miner(2), s);
        await _d.NextTxInBlockAsync(await _d.RoundStartAsync(s) + T1);
        var pool = await _d.PoolAsync();
        await _d.RevealAsync(_d.Miner(0), s);
        await _d.RevealAsync(_d.Miner(1), s);
        Assert.Equal(pool - 2 * (Wei.FromEther(1) / 3), await _d.PoolAsync());
    }

    [Fact]
    public async Task the_stake_counted_is_the_one_at_commit_time()
    {
        var s = await _d.SequenceAsync();
        await _d.CommitAsync(_d.Miner(0), s);
        await _d.CommitAsync(_d.Miner(1), s);
        await _d.DepositAsync(_d.Miner(0), Wei.FromEther(300)); // after committing: does not count
        await _d.NextTxInBlockAsync(await _d.RoundStartAsync(s) + T1);
        Assert.Equal(Wei.FromEther(1) / 2, Assert.Single(Rewards(await _d.RevealAsync(_d.Miner(0), s))).Amount);
    }

    [Fact]
    public async Task an_empty_pool_pays_what_it_has_and_then_zero_without_reverting()
    {
        await _d.Chain.SendAsync(_d.Admin, _d.Rollup, ContractCalls.SetRewardPerSequence(Wei.FromEther(4_000)));
        var s = await _d.SequenceAsync();
        await _d.CommitAsync(_d.Miner(0), s);
        await _d.CommitAsync(_d.Miner(1), s);
        await _d.NextTxInBlockAsync(await _d.RoundStartAsync(s) + T1);

        var first = await _d.RevealAsync(_d.Miner(0), s);
        Assert.Equal(Wei.FromEther(1_000), Assert.Single(Rewards(first)).Amount); // its share is 2,000 ETH: capped
        Assert.Equal(0, await _d.PoolAsync());

        var second = await _d.RevealAsync(_d.Miner(1), s);
        Assert.True(second.Succeeded);
        Assert.Equal(0, Assert.Single(Rewards(second)).Amount);
        Assert.Empty(Slashes(second));
    }
}
