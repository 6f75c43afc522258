using System.Diagnostics;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;

namespace ZkPow.Devnet.Tests.Contracts;

public sealed class DevChainTests(ChainFixture fixture) : IClassFixture<ChainFixture>, IAsyncLifetime
{
    private DevChain _chain = null!;

    public async Task InitializeAsync() => _chain = await fixture.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task starts_with_the_devnet_defaults_deployed_funded_and_staked()
    {
        var rollup = _chain.Contracts.Rollup;
        Assert.Equal(31337UL, (ulong)HexData.ParseQuantity(await _chain.Rpc.CallAsync("eth_chainId", [], default)));
        Assert.Equal(1001UL, (await _chain.ReadAsync(rollup, Abi.Call("chainID()"))).UInt64(0));
        Assert.Equal(6UL, (await _chain.ReadAsync(rollup, Abi.Call("forkID()"))).UInt64(0));
        Assert.Equal(5UL, (await _chain.ReadAsync(rollup, Abi.Call("proofHashCommitEpoch()"))).UInt64(0));
        Assert.Equal(10UL, (await _chain.ReadAsync(rollup, Abi.Call("proofCommitEpoch()"))).UInt64(0));
        Assert.Equal(Wei.FromEther(10), (await _chain.ReadAsync(rollup, Abi.Call("minDeposit()"))).Uint(0));
        Assert.Equal(Wei.FromEther(5), (await _chain.ReadAsync(rollup, Abi.Call("noProofPunishAmount()"))).Uint(0));
        Assert.Equal(Wei.FromEther(10), (await _chain.ReadAsync(rollup, Abi.Call("incorrectProofHashPunishAmount()"))).Uint(0));
        Assert.Equal(Wei.FromEther(1), (await _chain.ReadAsync(rollup, Abi.Call("rewardPerSequence()"))).Uint(0));
        Assert.Equal(_chain.Contracts.Verifier, (await _chain.ReadAsync(rollup, Abi.Call("rollupVerifier()"))).Address(0), StringComparer.OrdinalIgnoreCase);
        Assert.Equal(_chain.Contracts.MinerDeposit, (await _chain.ReadAsync(rollup, Abi.Call("minerDeposit()"))).Address(0), StringComparer.OrdinalIgnoreCase);
        Assert.Equal(ContractTestProofs.GenesisStateRoot, (await _chain.ReadAsync(rollup, RollupCalls.BatchNumToStateRoot(0))).Bytes32(0));
        Assert.Equal(Wei.FromEther(1_000), await _chain.GetBalanceAsync(rollup));
        Assert.Equal(3, _chain.Miners.Count);
        foreach (var miner in _chain.Miners)
        {
            Assert.Equal(Wei.FromEther(100), await _chain.GetStakeAsync(miner.Address));
        }

        Assert.Equal("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", _chain.Admin.Address);
        Assert.Equal("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", _chain.Miners[0].Address);
        Assert.Equal(2, _chain.ExtraAccounts.Count);
    }

    [Fact]
    public async Task the_key_of_an_account_signs_as_that_account()
    {
        var miner = _chain.Miners[0];
        var to = _chain.ExtraAccounts[0].Address;
        var key = TxKey.FromDevKey(miner.PrivateKey);
        Assert.Equal(miner.Address, key.Address);
        var nonce = (ulong)HexData.ParseQuantity(await _chain.Rpc.CallAsync("eth_getTransactionCount", [miner.Address, "latest"], default));
        var balance = await _chain.GetBalanceAsync(to);
        var gwei = System.Numerics.BigInteger.Pow(10, 9);
        var fees = new TxFees(50 * gwei, gwei, Legacy: false);
        var signed = key.Sign(_chain.ChainId, nonce, to, Wei.FromEther(1), [], 21_000, fees);
        using var rpc = new EthRpcClient(_chain.RpcUrl, TimeSpan.FromSeconds(30));
        Assert.Equal(RawTxBroadcast.Accepted, await rpc.SendRawTransactionAsync(signed.Raw, default));
        var receipt = await _chain.WaitForReceiptAsync(signed.Hash);
        Assert.True(receipt.Succeeded);
        var sent = await _chain.Rpc.CallAsync("eth_getTransactionByHash", [signed.Hash], default);
        Assert.Equal(miner.Address, sent.GetProperty("from").GetString(), StringComparer.OrdinalIgnoreCase);
        Assert.Equal(balance + Wei.FromEther(1), await _chain.GetBalanceAsync(to));
        Assert.Equal(nonce + 1, (ulong)HexData.ParseQuantity(await _chain.Rpc.CallAsync("eth_getTransactionCount", [miner.Address, "latest"], default)));
    }

    [Fact]
    public async Task admin_setters_emit_their_events_and_are_admin_only()
    {
        var rollup = _chain.Contracts.Rollup;
        var receipt = await _chain.SendAsync(_chain.Admin, rollup, ContractCalls.SetProofHashCommitEpoch(7));
        Assert.Equal(RollupDriver.Topic("SetProofHashCommitEpoch(uint8)"), receipt.Logs.Single().Topics[0]);
        receipt = await _chain.SendAsync(_chain.Admin, rollup, ContractCalls.SetProofCommitEpoch(9));
        Assert.Equal(RollupDriver.Topic("SetProofCommitEpoch(uint8)"), receipt.Logs.Single().Topics[0]);
        await _chain.SendAsync(_chain.Admin, rollup, ContractCalls.SetRewardPerSequence(Wei.FromEther(2)));
        Assert.Equal(7UL, (await _chain.ReadAsync(rollup, Abi.Call("proofHashCommitEpoch()"))).UInt64(0));
        Assert.Equal(9UL, (await _chain.ReadAsync(rollup, Abi.Call("proofCommitEpoch()"))).UInt64(0));
        Assert.Equal(Wei.FromEther(2), (await _chain.ReadAsync(rollup, Abi.Call("rewardPerSequence()"))).Uint(0));

        Assert.Equal("OnlyAdmin", await RollupDriver.RevertOfAsync(() => _chain.SendAsync(_chain.Miners[0], rollup, ContractCalls.SetProofCommitEpoch(1))));
        Assert.Equal("OnlyAdmin", await RollupDriver.RevertOfAsync(() => _chain.SendAsync(_chain.Miners[0], rollup, ContractCalls.SetRewardPerSequence(1))));
    }

    [Fact]
    public async Task manual_and_interval_mining_modes_and_dispose_kills_the_process()
    {
        int pid;
        await using (var manual = await DevChain.StartAsync(new DevChainOptions { ManualMining = true, Miners = 1, ExtraAccounts = 0 }))
        {
            pid = manual.ProcessId;
            var head = await manual.GetBlockNumberAsync();
            var hash = await manual.SendTransactionAsync(manual.Admin, manual.Miners[0].Address, [], 1);
            await Task.Delay(300);
            Assert.Equal(head, await manual.GetBlockNumberAsync());
            await manual.MineAsync();
            Assert.True((await manual.WaitForReceiptAsync(hash)).Succeeded);
            Assert.Equal(head + 1, await manual.GetBlockNumberAsync());
        }

        Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid));

        await using var interval = await DevChain.StartAsync(new DevChainOptions { BlockTime = 1, Miners = 1, ExtraAccounts = 0 });
        var start = await interval.GetBlockNumberAsync();
        var deadline = Stopwatch.StartNew();
        while (await interval.GetBlockNumberAsync() == start && deadline.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(100);
        }

        Assert.True(await interval.GetBlockNumberAsync() > start);
    }
}
