using System.Numerics;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Sender;

namespace ZkPow.Aggregator.Chain;

/// <summary>
/// Reads the miner's ETH balance (<c>eth_getBalance</c>) and its stake (<c>depositOf</c> on the rollup's
/// <c>minerDeposit()</c> contract) every <see cref="SenderOptions.FundsInterval"/>, exports them as gauges and warns when
/// either runs low: the balance below <see cref="SenderOptions.MinBalanceWarning"/>, the stake below the contract's
/// <c>minDeposit()</c> plus one <c>noProofPunishAmount()</c> (one more slash and no hash can be committed).
/// A failed reading is logged and retried at the next interval; the last good one stays exported.
/// </summary>
public sealed partial class MinerFunds : IAsyncDisposable
{
    private readonly EthRpcClient _rpc;
    private readonly string _rollup;
    private readonly string _miner;
    private readonly SenderOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private (string Deposit, BigInteger StakeWarning)? _contract;
    private Task _loop = Task.CompletedTask;
    private bool _balanceLow;
    private bool _stakeLow;
    private bool _failing;

    public MinerFunds(EthRpcClient rpc, string rollupAddress, string miner, SenderOptions options, ILogger<MinerFunds> logger,
        TimeProvider time)
    {
        options.Validate();
        _rpc = rpc;
        _rollup = HexData.NormalizeAddress(rollupAddress);
        _miner = HexData.NormalizeAddress(miner);
        _options = options;
        Metrics = new MinerFundsMetrics();
        _logger = logger;
        _time = time;
    }

    public MinerFundsMetrics Metrics { get; }

    /// <summary>Starts reading in the background (the first reading at once).</summary>
    public void Start() => _loop = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);

    /// <summary>Reads the funds now, records them in <see cref="Metrics"/> and logs a warning for each that is (newly) low.</summary>
    public async Task<MinerFundsReading> ReadAsync(CancellationToken cancellationToken)
    {
        var (deposit, stakeWarning) = _contract ??= await ReadContractAsync(cancellationToken).ConfigureAwait(false);
        var balance = HexData.ParseQuantity(await _rpc.CallAsync("eth_getBalance", [_miner, "latest"], cancellationToken).ConfigureAwait(false));
        var stake = (await ViewAsync(deposit, Abi.Call("depositOf(address)", AbiArg.Address(_miner)), cancellationToken).ConfigureAwait(false)).Uint(0);
        var balanceWarning = new BigInteger(_options.MinBalanceWarning * 1_000_000_000m) * 1_000_000_000;
        var reading = new MinerFundsReading(balance, stake, balanceWarning, stakeWarning);
        Metrics.Record(reading);
        if (reading.BalanceLow && !_balanceLow)
        {
            LogBalanceLow(_miner, MinerFundsReading.Eth(balance), _options.MinBalanceWarning);
        }

        if (reading.StakeLow && !_stakeLow)
        {
            LogStakeLow(_miner, MinerFundsReading.Eth(stake), MinerFundsReading.Eth(stakeWarning));
        }

        _balanceLow = reading.BalanceLow;
        _stakeLow = reading.StakeLow;
        return reading;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
        Metrics.Dispose();
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await ReadAsync(cancellationToken).ConfigureAwait(false);
                _failing = false;
            }
            catch (Exception ex) when (ex is ChainUnavailableException or EthRpcException or InvalidOperationException or FormatException or OverflowException)
            {
                if (!_failing)
                {
                    LogReadFailed(_miner, ex.Message);
                }

                _failing = true;
            }

            await Task.Delay(_options.FundsInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<(string, BigInteger)> ReadContractAsync(CancellationToken cancellationToken)
    {
        var deposit = (await ViewAsync(_rollup, Abi.Call("minerDeposit()"), cancellationToken).ConfigureAwait(false)).Address(0);
        var minimum = (await ViewAsync(_rollup, Abi.Call("minDeposit()"), cancellationToken).ConfigureAwait(false)).Uint(0);
        var slash = (await ViewAsync(_rollup, Abi.Call("noProofPunishAmount()"), cancellationToken).ConfigureAwait(false)).Uint(0);
        return (deposit, minimum + slash);
    }

    private async Task<AbiWords> ViewAsync(string to, byte[] data, CancellationToken cancellationToken)
    {
        var result = await _rpc.EthCallAsync(null, to, data, 0, "latest", cancellationToken).ConfigureAwait(false);
        return result.Succeeded && result.Value is { Length: >= 32 }
            ? new AbiWords(result.Value)
            : throw new InvalidOperationException($"a view of {to} failed: {result.Revert?.ToString() ?? "empty answer"}");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The balance of miner {Miner} is {BalanceEth} ETH, below Sender:MinBalanceWarning ({WarningEth} ETH): top it up, or its transactions will stop")]
    private partial void LogBalanceLow(string miner, double balanceEth, decimal warningEth);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The stake of miner {Miner} is {StakeEth} ETH, below {WarningEth} ETH (the contract's minimum stake plus one slash): deposit more, or hash commits will be refused")]
    private partial void LogStakeLow(string miner, double stakeEth, double warningEth);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the funds of miner {Miner} failed; retrying: {Error}")]
    private partial void LogReadFailed(string miner, string error);
}
