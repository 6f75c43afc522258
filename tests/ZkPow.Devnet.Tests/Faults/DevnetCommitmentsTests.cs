using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Network;
using ZkPow.Devnet.Tests.Contracts;
using static ZkPow.Devnet.Tests.Contracts.RollupDriver;

namespace ZkPow.Devnet.Tests.Faults;

/// <summary>How the devnet reads our open commitments from the contract, and which ones are overdue (slash pending).</summary>
public sealed class DevnetCommitmentsTests(ChainFixture fixture) : IClassFixture<ChainFixture>
{
    [Fact]
    public async Task a_commitment_left_unrevealed_is_overdue_from_its_rounds_last_block_until_settle_slashes_it()
    {
        var d = new RollupDriver(await fixture.ResetAsync());
        var chain = d.Chain;
        using var rpc = new EthRpcClient(chain.RpcUrl, TimeSpan.FromSeconds(10));
        var rollup = new RollupChainClient(rpc, chain.Contracts.Rollup);
        var windows = await rollup.GetProofWindowsAsync(default);
        string[] miners = [d.Miner(0).Address, d.Miner(1).Address];
        async Task<IReadOnlyList<DevnetOpenCommitment>> ReadAsync() =>
            await DevnetCommitments.ReadAsync(rpc, rollup, miners, await chain.GetBlockNumberAsync(), windows, default);

        var s = await d.SequenceAsync();
        await d.CommitAsync(d.Miner(0), s);
        await d.CommitAsync(d.Miner(1), s);
        var start = await d.RoundStartAsync(s);
        Assert.Equal(2, (await ReadAsync()).Count(c => !c.Overdue));

        await d.NextTxInBlockAsync(start + T1);
        Assert.True(Verified(await d.RevealAsync(d.Miner(0), s)));
        await chain.MineToAsync(start + T1 + T2 - 1);
        var open = Assert.Single(await ReadAsync());
        Assert.Equal((d.Miner(1).Address, s.FinalNewBatch, start, false), (open.Miner, open.FinalNewBatch, open.RoundStart, open.Overdue));

        // The round's last block is mined: no reveal can land in it any more.
        await chain.MineAsync();
        Assert.True(Assert.Single(await ReadAsync()).Overdue);

        var settled = await chain.SendAsync(chain.Admin, chain.Contracts.Rollup, RollupCalls.Settle(d.Miner(1).Address));
        var slash = Assert.Single(Slashes(settled));
        Assert.Equal((s.FinalNewBatch, 2), (slash.Final, slash.Reason));
        Assert.Empty(await ReadAsync());
    }
}
