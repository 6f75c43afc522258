using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Nethereum.Util;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Devnet.Chain;

/// <summary>
/// A local base chain for the devnet, the tests and the benchmarks: an anvil process on a free loopback port with the
/// project's contracts deployed (verifier, stake, rollup), the reward pool funded and the miner accounts staked.
/// Disposing it kills the anvil process it started.
/// </summary>
/// <example><code>await using var chain = await DevChain.StartAsync(new DevChainOptions { T1 = 5, T2 = 10, Miners = 2 }, ct);</code></example>
internal sealed class DevChain : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan ReceiptPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// How the devnet calls its own anvil (through the product's <see cref="JsonRpcTransport"/>): a request may take
    /// 30 s (a loaded machine), a transient failure (refused connection, HTTP 5xx, timeout) is tried twice more after
    /// 100 ms and 200 ms (jittered), and a call gives up after 60 s in all with <see cref="ChainUnavailableException"/>:
    /// an anvil that is gone ends a call within a second instead of being retried forever.
    /// </summary>
    internal static readonly RpcRetryOptions RpcRetry = new()
    {
        RequestTimeout = TimeSpan.FromSeconds(30),
        CallBudget = TimeSpan.FromSeconds(60),
        MaxAttempts = 3,
        RetryBaseDelay = TimeSpan.FromMilliseconds(100),
        RetryMaxDelay = TimeSpan.FromSeconds(1),
    };

    private readonly AnvilProcess _anvil;
    private readonly string _configFile;

    private DevChain(
        AnvilProcess anvil,
        JsonRpcTransport rpc,
        string configFile,
        DevChainOptions options,
        IReadOnlyList<DevAccount> accounts,
        DevChainContracts contracts)
    {
        _anvil = anvil;
        _configFile = configFile;
        Rpc = rpc;
        Options = options;
        Accounts = accounts;
        Miners = [.. accounts.Skip(1).Take(options.Miners)];
        ExtraAccounts = [.. accounts.Skip(1 + options.Miners)];
        Contracts = contracts;
    }

    public DevChainOptions Options { get; }

    /// <summary>The node's HTTP JSON-RPC URL (loopback).</summary>
    public string RpcUrl => Rpc.FirstUrl;

    public int Port => _anvil.Port;

    /// <summary>The PID of the anvil process.</summary>
    public int ProcessId => _anvil.ProcessId;

    /// <summary>The base chain's <c>eth_chainId</c>.</summary>
    public ulong ChainId => Options.ChainId;

    public DevChainContracts Contracts { get; private set; }

    /// <summary>Every dev account: the admin, then the miners, then the extra (unstaked) accounts.</summary>
    public IReadOnlyList<DevAccount> Accounts { get; }

    /// <summary>Account 0: deploys, administers and sequences.</summary>
    public DevAccount Admin => Accounts[0];

    /// <summary>Accounts 1..Miners: funded and staked.</summary>
    public IReadOnlyList<DevAccount> Miners { get; }

    /// <summary>Funded accounts after the miners, with no stake.</summary>
    public IReadOnlyList<DevAccount> ExtraAccounts { get; }

    /// <summary>Raw JSON-RPC access to the node (any method, <c>anvil_*</c> and <c>evm_*</c> included), retried as
    /// <see cref="RpcRetry"/> says. Error answers throw <see cref="EthRpcException"/>; no answer within the budget,
    /// <see cref="ChainUnavailableException"/>.</summary>
    public JsonRpcTransport Rpc { get; }

    /// <summary>The last lines anvil printed.</summary>
    public IReadOnlyList<string> RecentOutput => _anvil.RecentOutput;

    /// <summary>
    /// Starts anvil (automine), deploys and funds the contracts, stakes the miners, then applies the requested mining
    /// mode (<see cref="DevChainOptions.BlockTime"/> through <c>evm_setIntervalMining</c>, or
    /// <see cref="DevChainOptions.ManualMining"/> through <c>evm_setAutomine(false)</c>), so that set-up never waits for blocks.
    /// </summary>
    public static async Task<DevChain> StartAsync(DevChainOptions? options = null, CancellationToken ct = default)
    {
        options ??= new DevChainOptions();
        options.Validate();
        var anvilPath = await NodeTools.EnsureAnvilAsync(options.AnvilPath, ct).ConfigureAwait(false);

        var (anvil, url, configFile) = await LaunchAsync(anvilPath, options, ct).ConfigureAwait(false);
        var rpc = new JsonRpcTransport([url], RpcRetry, NullLogger.Instance, TimeProvider.System);
        DevChain? chain = null;
        try
        {
            var accounts = ReadAccounts(configFile);
            chain = new DevChain(anvil, rpc, configFile, options, accounts, new DevChainContracts(string.Empty, string.Empty, string.Empty));
            await chain.DeployAsync(ct).ConfigureAwait(false);
            await chain.ApplyMiningModeAsync(ct).ConfigureAwait(false);
            return chain;
        }
        catch
        {
            if (chain is not null)
            {
                await chain.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                rpc.Dispose();
                anvil.Dispose();
                File.Delete(configFile);
            }

            throw;
        }
    }

    // ------------------------------------------------------------------ transactions and calls

    /// <summary>Sends a transaction from an unlocked dev account and returns its hash (not waiting for it to be mined).</summary>
    /// <exception cref="ContractRevertException">the node's gas estimation reverted (pass <paramref name="gas"/> to skip it).</exception>
    public async Task<string> SendTransactionAsync(
        DevAccount from, string? to, byte[] data, BigInteger value = default, ulong? gas = null, CancellationToken ct = default)
    {
        var tx = new JsonObject { ["from"] = from.Address, ["data"] = HexData.Encode(data) };
        if (to is not null)
        {
            tx["to"] = to;
        }

        if (!value.IsZero)
        {
            tx["value"] = HexData.Quantity(value);
        }

        try
        {
            // anvil's eth_sendTransaction mines a reverting transaction without complaint: estimate first, as a wallet
            // would, so that a revert surfaces here with its custom error.
            var limit = gas ?? EstimateGasMargin(HexData.ParseQuantity(await Rpc.CallAsync("eth_estimateGas", [tx.DeepClone()], ct).ConfigureAwait(false)));
            tx["gas"] = HexData.Quantity(limit);
            var hash = await Rpc.CallAsync("eth_sendTransaction", [tx], ct).ConfigureAwait(false);
            return hash.GetString() ?? throw new InvalidOperationException("eth_sendTransaction returned no hash");
        }
        catch (EthRpcException e) when (e.IsRevert)
        {
            throw new ContractRevertException($"transaction from {from} reverted", e.ErrorData, e);
        }
    }

    /// <summary>Sends a transaction and waits for its receipt (which may report a failure if <paramref name="gas"/> was given).</summary>
    public async Task<TxReceipt> SendAsync(
        DevAccount from, string? to, byte[] data, BigInteger value = default, ulong? gas = null, CancellationToken ct = default)
    {
        var hash = await SendTransactionAsync(from, to, data, value, gas, ct).ConfigureAwait(false);
        return await WaitForReceiptAsync(hash, ct).ConfigureAwait(false);
    }

    /// <summary>Polls <c>eth_getTransactionReceipt</c> every 50 ms until the transaction is mined.</summary>
    public async Task<TxReceipt> WaitForReceiptAsync(string transactionHash, CancellationToken ct = default)
    {
        while (true)
        {
            var receipt = await Rpc.CallAsync("eth_getTransactionReceipt", [transactionHash], ct).ConfigureAwait(false);
            if (receipt.ValueKind == JsonValueKind.Object)
            {
                return TxReceipt.Parse(receipt);
            }

            await Task.Delay(ReceiptPoll, ct).ConfigureAwait(false);
        }
    }

    /// <summary><c>eth_call</c> at the latest block; <paramref name="from"/> sets <c>msg.sender</c>.</summary>
    /// <exception cref="ContractRevertException">the call reverted.</exception>
    public async Task<byte[]> CallAsync(string to, byte[] data, string? from = null, CancellationToken ct = default)
    {
        var call = new JsonObject { ["to"] = to, ["data"] = HexData.Encode(data) };
        if (from is not null)
        {
            call["from"] = from;
        }

        try
        {
            var result = await Rpc.CallAsync("eth_call", [call, "latest"], ct).ConfigureAwait(false);
            return HexData.Decode(result.GetString() ?? "0x");
        }
        catch (EthRpcException e) when (e.IsRevert)
        {
            throw new ContractRevertException($"call to {to} reverted", e.ErrorData, e);
        }
    }

    /// <summary>Calls and wraps the return data in an <see cref="AbiWords"/>.</summary>
    public async Task<AbiWords> ReadAsync(string to, byte[] data, string? from = null, CancellationToken ct = default) =>
        new(await CallAsync(to, data, from, ct).ConfigureAwait(false));

    public async Task<BigInteger> GetBalanceAsync(string address, CancellationToken ct = default) =>
        HexData.ParseQuantity(await Rpc.CallAsync("eth_getBalance", [address, "latest"], ct).ConfigureAwait(false));

    /// <summary>The stake that <paramref name="address"/> holds in the stake contract.</summary>
    public async Task<BigInteger> GetStakeAsync(string address, CancellationToken ct = default) =>
        (await ReadAsync(Contracts.MinerDeposit, ContractCalls.DepositOf(address), ct: ct).ConfigureAwait(false)).Uint(0);

    // ------------------------------------------------------------------ blocks

    public async Task<ulong> GetBlockNumberAsync(CancellationToken ct = default) =>
        (ulong)HexData.ParseQuantity(await Rpc.CallAsync("eth_blockNumber", [], ct).ConfigureAwait(false));

    /// <summary>Mines <paramref name="blocks"/> blocks at once (with whatever transactions are pending).</summary>
    public async Task MineAsync(int blocks = 1, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blocks);
        await Rpc.CallAsync("anvil_mine", [HexData.Quantity(blocks)], ct).ConfigureAwait(false);
    }

    /// <summary>Mines until the chain's head is <paramref name="blockNumber"/> (no-op if already there or past it).</summary>
    public async Task MineToAsync(ulong blockNumber, CancellationToken ct = default)
    {
        var head = await GetBlockNumberAsync(ct).ConfigureAwait(false);
        if (blockNumber > head)
        {
            await MineAsync(checked((int)(blockNumber - head)), ct).ConfigureAwait(false);
        }
    }

    /// <summary>Turns mining on every transaction on or off (off = pending transactions wait for <see cref="MineAsync"/>).</summary>
    public async Task SetAutomineAsync(bool enabled, CancellationToken ct = default) =>
        await Rpc.CallAsync("evm_setAutomine", [enabled], ct).ConfigureAwait(false);

    /// <summary>Snapshots the chain's state; <see cref="RevertAsync"/> returns to it.</summary>
    public async Task<string> SnapshotAsync(CancellationToken ct = default) =>
        (await Rpc.CallAsync("evm_snapshot", [], ct).ConfigureAwait(false)).GetString()
        ?? throw new InvalidOperationException("evm_snapshot returned no id");

    /// <summary>Returns to a snapshot (which is consumed: take a new one to return again).</summary>
    public async Task RevertAsync(string snapshotId, CancellationToken ct = default)
    {
        var reverted = await Rpc.CallAsync("evm_revert", [snapshotId], ct).ConfigureAwait(false);
        if (reverted.ValueKind != JsonValueKind.True)
        {
            throw new InvalidOperationException($"evm_revert({snapshotId}) failed");
        }
    }

    // ------------------------------------------------------------------ lifetime

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    public void Dispose()
    {
        Rpc.Dispose();
        _anvil.Dispose();
        try
        {
            File.Delete(_configFile);
        }
        catch (IOException)
        {
            // A leftover temp file is harmless.
        }
    }

    // ------------------------------------------------------------------ start-up

    private static async Task<(AnvilProcess Anvil, string Url, string ConfigFile)> LaunchAsync(
        string anvilPath, DevChainOptions options, CancellationToken ct)
    {
        var accounts = 1 + options.Miners + options.ExtraAccounts;
        for (var attempt = 1; ; attempt++)
        {
            var port = options.Port != 0 ? options.Port : FreeLoopbackPort();
            var configFile = Path.Combine(Path.GetTempPath(), $"zkpow-anvil-{Environment.ProcessId}-{port}-{Guid.NewGuid():N}.json");
            string[] arguments =
            [
                "--chain-id", options.ChainId.ToString(CultureInfo.InvariantCulture),
                "--accounts", accounts.ToString(CultureInfo.InvariantCulture),
                "--balance", options.AccountBalanceEther.ToString(CultureInfo.InvariantCulture),
                "--config-out", configFile,
            ];
            var anvil = AnvilProcess.Start(anvilPath, port, arguments, options.Output);
            var url = $"http://127.0.0.1:{port}";
            try
            {
                await WaitUntilReadyAsync(anvil, url, configFile, options, ct).ConfigureAwait(false);
                return (anvil, url, configFile);
            }
            catch (Exception e) when (e is not OperationCanceledException && anvil.HasExited && options.Port == 0 && attempt < 3)
            {
                // Most likely the free port was taken in between: try another one.
                anvil.Dispose();
            }
            catch
            {
                anvil.Dispose();
                throw;
            }
        }
    }

    private static async Task WaitUntilReadyAsync(
        AnvilProcess anvil, string url, string configFile, DevChainOptions options, CancellationToken ct)
    {
        // One attempt per probe: the loop below is the retry.
        using var probe = new JsonRpcTransport(url, RpcRetry.RequestTimeout);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (anvil.HasExited)
            {
                throw new InvalidOperationException("anvil exited during start-up:\n" + string.Join('\n', anvil.RecentOutput));
            }

            try
            {
                var chainId = HexData.ParseQuantity(await probe.CallAsync("eth_chainId", [], ct).ConfigureAwait(false));
                if (chainId != options.ChainId)
                {
                    throw new InvalidOperationException($"anvil reports chain id {chainId}, expected {options.ChainId}");
                }

                if (File.Exists(configFile))
                {
                    return;
                }
            }
            catch (ChainUnavailableException)
            {
                // Not listening yet.
            }

            if (waited.Elapsed > options.StartupTimeout)
            {
                throw new TimeoutException($"anvil did not answer within {options.StartupTimeout}:\n" + string.Join('\n', anvil.RecentOutput));
            }

            await Task.Delay(ReceiptPoll, ct).ConfigureAwait(false);
        }
    }

    private static List<DevAccount> ReadAccounts(string configFile)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(configFile));
        var addresses = config.RootElement.GetProperty("available_accounts").EnumerateArray().Select(a => a.GetString()!).ToList();
        var keys = config.RootElement.GetProperty("private_keys").EnumerateArray().Select(k => k.GetString()!).ToList();
        var checksum = new AddressUtil();
        var accounts = new List<DevAccount>(addresses.Count);
        for (var i = 0; i < addresses.Count; i++)
        {
            accounts.Add(new DevAccount(i, checksum.ConvertToChecksumAddress(addresses[i]), keys[i]));
        }

        return accounts;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static BigInteger EstimateGasMargin(BigInteger estimate) => estimate + estimate / 5 + 10_000;

    /// <summary>Deploys verifier, stake and rollup from the admin's next three nonces, funds the pool and stakes the miners.</summary>
    private async Task DeployAsync(CancellationToken ct)
    {
        var options = Options;
        var admin = Admin;
        var nonce = HexData.ParseQuantity(await Rpc.CallAsync("eth_getTransactionCount", [admin.Address, "pending"], ct).ConfigureAwait(false));
        var predictedRollup = ContractUtils.CalculateContractAddress(admin.Address, nonce + 2);

        var verifier = ContractArtifact.Load(ContractArtifact.VerifierName);
        var deposit = ContractArtifact.Load(ContractArtifact.MinerDepositName);
        var rollup = ContractArtifact.Load(ContractArtifact.RollupName);

        var verifierTx = await SendTransactionAsync(admin, null, verifier.Bytecode, ct: ct).ConfigureAwait(false);
        var depositTx = await SendTransactionAsync(
            admin, null, [.. deposit.Bytecode, .. Abi.Encode([AbiArg.Address(predictedRollup)])], ct: ct).ConfigureAwait(false);
        var verifierAddress = (await WaitForReceiptAsync(verifierTx, ct).ConfigureAwait(false)).ContractAddress!;
        var depositAddress = (await WaitForReceiptAsync(depositTx, ct).ConfigureAwait(false)).ContractAddress!;

        byte[] rollupArguments = Abi.Encode(
        [
            AbiArg.Address(verifierAddress),
            AbiArg.Address(depositAddress),
            AbiArg.Uint(options.RollupChainId),
            AbiArg.Uint(options.ForkId),
            AbiArg.Bytes32(options.GenesisStateRoot ?? DevChainOptions.DevnetGenesisStateRoot()),
            AbiArg.Uint(options.T1),
            AbiArg.Uint(options.T2),
            AbiArg.Uint(options.MinDeposit),
            AbiArg.Uint(options.NoProofPunishAmount),
            AbiArg.Uint(options.IncorrectProofHashPunishAmount),
            AbiArg.Uint(options.RewardPerSequence),
        ]);
        var rollupReceipt = await SendAsync(admin, null, [.. rollup.Bytecode, .. rollupArguments], ct: ct).ConfigureAwait(false);
        var rollupAddress = rollupReceipt.ContractAddress!;
        if (!string.Equals(rollupAddress, predictedRollup, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"rollup deployed at {rollupAddress}, expected {predictedRollup}");
        }

        var checksum = new AddressUtil();
        Contracts = new DevChainContracts(
            checksum.ConvertToChecksumAddress(rollupAddress),
            checksum.ConvertToChecksumAddress(depositAddress),
            checksum.ConvertToChecksumAddress(verifierAddress));

        var pending = new List<string>();
        if (!options.RewardPool.IsZero)
        {
            pending.Add(await SendTransactionAsync(admin, Contracts.Rollup, [], options.RewardPool, ct: ct).ConfigureAwait(false));
        }

        if (!options.MinerStake.IsZero)
        {
            foreach (var miner in Miners)
            {
                pending.Add(await SendTransactionAsync(miner, Contracts.MinerDeposit, ContractCalls.Deposit(), options.MinerStake, ct: ct).ConfigureAwait(false));
            }
        }

        foreach (var hash in pending)
        {
            var receipt = await WaitForReceiptAsync(hash, ct).ConfigureAwait(false);
            if (!receipt.Succeeded)
            {
                throw new InvalidOperationException($"set-up transaction {hash} failed");
            }
        }
    }

    private async Task ApplyMiningModeAsync(CancellationToken ct)
    {
        if (Options.ManualMining)
        {
            await SetAutomineAsync(false, ct).ConfigureAwait(false);
        }
        else if (Options.BlockTime > 0)
        {
            await SetAutomineAsync(false, ct).ConfigureAwait(false);
            await Rpc.CallAsync("evm_setIntervalMining", [Options.BlockTime], ct).ConfigureAwait(false);
        }
    }
}
