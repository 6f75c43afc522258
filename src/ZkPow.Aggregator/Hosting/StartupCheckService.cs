using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// Checks the configuration against reality before anything is written: the miner's key (local), then the base
/// chain's id, contract code at the rollup address, the rollup's <c>forkID()</c>, and the rollup node. A node that is
/// down or answers an error is waited for (<see cref="StartupRetry"/>); only a definite answer stops start-up, with an
/// <see cref="OptionsException"/> naming the key: another chain id (<c>ExpectedChainId</c>), no contract code or a
/// <c>forkID()</c> that reverts (<c>Chain:RollupAddress</c>), another fork id (<c>Provers:ForkId</c>).
/// </summary>
internal sealed partial class StartupCheckService(IOptions<AggregatorOptions> options, EthRpcClient rpc, RollupNodeClient rollupNode,
    StartupRetry retry, AggregatorReadiness readiness, ILogger<StartupCheckService> logger) : IHostedService
{
    private readonly AggregatorOptions _options = options.Value;
    private TxKey? _key;

    /// <summary>The miner's key, loaded at start.</summary>
    public TxKey Key => _key ?? throw new InvalidOperationException("the aggregator has not started");

    /// <summary>The base chain's id, read at start.</summary>
    public ulong BaseChainId { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Local configuration first (the key and its password), then what the network says.
        readiness.Starting("loading the miner's key");
        var key = TxKey.Load(_options.Key);
        foreach (var path in TxKey.ExposedFiles(_options.Key))
        {
            LogSecretExposed(path);
        }

        var chain = _options.Chain;
        // Node URLs may carry API keys: messages show scheme://host:port only.
        var chainShown = string.Join(", ", rpc.Endpoints);
        var chainId = await retry.RunAsync($"the base chain's eth_chainId at {chainShown}", async ct =>
        {
            var reply = await rpc.CallAsync("eth_chainId", ct).ConfigureAwait(false);
            return Convert.ToUInt64(reply.GetString() ?? throw new FormatException("eth_chainId answered no string"), 16);
        }, cancellationToken).ConfigureAwait(false);
        if (_options.ExpectedChainId is { } expected && expected != chainId)
        {
            throw new OptionsException("ExpectedChainId", $"the base chain at {chainShown} has chain id {chainId}, not {expected}");
        }

        if (_options.ExpectedChainId is null && !TxKey.DevnetChainIds.Contains(chainId))
        {
            // Outside the devnet chain ids the chain id must be stated: a wrong RPC URL must not reach a real chain.
            throw new OptionsException("ExpectedChainId",
                $"is required on chain {chainId} (only the devnet chains {string.Join(" and ", TxKey.DevnetChainIds)} may leave it out): set it to {chainId} if that is the chain you mean");
        }

        if (key.IsDevKey && !TxKey.DevnetChainIds.Contains(chainId))
        {
            throw new OptionsException("Key:DevPrivateKey", $"a raw key is only accepted on a devnet chain, not on chain {chainId}; use a keystore");
        }

        var code = await retry.RunAsync($"the contract code at {chain.RollupAddress} (eth_getCode)", async ct =>
        {
            var reply = await rpc.CallAsync("eth_getCode", [chain.RollupAddress, "latest"], ct).ConfigureAwait(false);
            return HexData.Decode(reply.GetString() ?? throw new FormatException("eth_getCode answered no string"));
        }, cancellationToken).ConfigureAwait(false);
        if (code.Length == 0)
        {
            throw new OptionsException("Chain:RollupAddress", $"there is no contract at {chain.RollupAddress} on chain {chainId} (no code)");
        }

        var forkCall = await retry.RunAsync($"the rollup's forkID() at {chain.RollupAddress}",
            ct => rpc.EthCallAsync(null, chain.RollupAddress, RollupCalls.ForkId(), 0, "latest", ct), cancellationToken).ConfigureAwait(false);
        if (!forkCall.Succeeded)
        {
            throw new OptionsException("Chain:RollupAddress", $"the contract at {chain.RollupAddress} is not a rollup: forkID() reverts ({forkCall.Revert})");
        }

        if (forkCall.Value!.Length < 32)
        {
            throw new OptionsException("Chain:RollupAddress", $"the contract at {chain.RollupAddress} is not a rollup: forkID() answers {forkCall.Value.Length} bytes");
        }

        var forkId = (ulong)new AbiWords(forkCall.Value).Uint(0);
        if (forkId != _options.Provers.ForkId)
        {
            throw new OptionsException("Provers:ForkId", $"the rollup contract's forkID() is {forkId}, the configuration says {_options.Provers.ForkId}");
        }

        var batch = await retry.RunAsync($"the rollup node's zkevm_batchNumber at {ChainOptions.Shown(rollupNode.Url)}", rollupNode.GetBatchNumberAsync, cancellationToken)
            .ConfigureAwait(false);
        LogChecked(chainId, forkId, batch);
        _key = key;
        BaseChainId = chainId;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "The secret file {Path} can be read by group or others; restrict it to its owner (chmod 600)")]
    private partial void LogSecretExposed(string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Start-up checks passed: base chain {ChainId}, rollup fork id {ForkId}, rollup node at batch {Batch}")]
    private partial void LogChecked(ulong chainId, ulong forkId, ulong batch);
}
