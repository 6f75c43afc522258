using System.Numerics;
using Microsoft.Extensions.Logging;
using Nethereum.Util;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sender;
using ZkPow.Devnet.Chain;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary>The miner's balance and stake, read from a real chain, and the warnings when they run low.</summary>
public sealed class MinerFundsTests
{
    private static readonly BigInteger Ether = BigInteger.Pow(10, 18);

    [Fact]
    public async Task the_balance_and_stake_are_read_from_the_chain_and_a_stake_within_one_slash_of_the_minimum_is_warned_once()
    {
        // Minimum 10 ETH, unrevealed slash 5 ETH: a 12 ETH stake is one slash from being unable to commit.
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0, MinerStake = Wei.FromEther(12) });
        var miner = chain.Miners[0].Address;
        using var rpc = new EthRpcClient(chain.RpcUrl, TimeSpan.FromSeconds(10));
        var log = new RecordingLogger();
        await using var funds = new MinerFunds(rpc, chain.Contracts.Rollup, miner, new SenderOptions(), log, TimeProvider.System);

        var reading = await funds.ReadAsync(CancellationToken.None);
        Assert.Equal(await chain.GetBalanceAsync(miner), reading.BalanceWei);
        Assert.Equal(12 * Ether, reading.StakeWei);
        Assert.Equal(15 * Ether, reading.StakeWarningWei);
        Assert.Equal(Ether / 2, reading.BalanceWarningWei);
        Assert.True(reading.StakeLow);
        Assert.False(reading.BalanceLow);
        Assert.Same(reading, funds.Metrics.Last);
        var warning = Assert.Single(log.Warnings);
        Assert.Contains("stake", warning, StringComparison.Ordinal);
        Assert.Contains("12", warning, StringComparison.Ordinal);

        // Still low: not repeated. Topped up: no longer low, and no new warning.
        await funds.ReadAsync(CancellationToken.None);
        Assert.Single(log.Warnings);
        await chain.SendAsync(chain.Miners[0], chain.Contracts.MinerDeposit, ContractCalls.Deposit(), 10 * Ether);
        var topped = await funds.ReadAsync(CancellationToken.None);
        Assert.Equal(22 * Ether, topped.StakeWei);
        Assert.False(topped.StakeLow);
        Assert.Single(log.Warnings);
    }

    [Fact]
    public async Task a_balance_below_the_configured_warning_is_warned_and_the_background_reader_exports_it()
    {
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0 });
        using var rpc = new EthRpcClient(chain.RpcUrl, TimeSpan.FromSeconds(10));
        var log = new RecordingLogger();
        var options = new SenderOptions { MinBalanceWarning = 1_000_000m, FundsInterval = TimeSpan.FromMilliseconds(200) };
        await using var funds = new MinerFunds(rpc, chain.Contracts.Rollup, chain.Miners[0].Address, options, log, TimeProvider.System);
        Assert.Null(funds.Metrics.Last);
        funds.Start();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (log.Warnings.Count == 0 && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(50);
        }

        var warning = Assert.Single(log.Warnings);
        Assert.Contains("Sender:MinBalanceWarning", warning, StringComparison.Ordinal);
        Assert.True(funds.Metrics.Last!.BalanceLow);
        Assert.Equal(100 * Ether, funds.Metrics.Last.StakeWei);
    }

    [Fact]
    public async Task an_unreachable_chain_is_logged_once_and_the_reader_keeps_going()
    {
        using var rpc = new EthRpcClient("http://127.0.0.1:1", TimeSpan.FromSeconds(1));
        var log = new RecordingLogger();
        var options = new SenderOptions { FundsInterval = TimeSpan.FromMilliseconds(100) };
        await using var funds = new MinerFunds(rpc, "0x5FbDB2315678afecb367f032d93F642f64180aa3", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", options, log,
            TimeProvider.System);
        await Assert.ThrowsAsync<ChainUnavailableException>(() => funds.ReadAsync(CancellationToken.None));
        funds.Start();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (log.Warnings.Count == 0 && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(50);
        }

        await Task.Delay(500);
        var warning = Assert.Single(log.Warnings);
        Assert.Contains("failed", warning, StringComparison.Ordinal);
        Assert.Null(funds.Metrics.Last);
    }

    private sealed class RecordingLogger : ILogger<MinerFunds>
    {
        private readonly List<string> _warnings = [];

        public IReadOnlyList<string> Warnings
        {
            get
            {
                lock (_warnings)
                {
                    return [.. _warnings];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Warning)
            {
                lock (_warnings)
                {
                    _warnings.Add(formatter(state, exception));
                }
            }
        }
    }
}
