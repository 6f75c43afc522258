using System.Runtime.Versioning;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using ZkPow.Aggregator;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Hosting;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Network;

namespace ZkPow.Cli.Tests;

/// <summary>Secrets: the password variable is not a setting, secret files are written owner-only and warned about when
/// others can read them, and a real chain needs its id stated.</summary>
[UnsupportedOSPlatform("windows")]
[Collection(DevnetCollection.Name)]
public sealed class SecretsTests
{
    private const string DevKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    private const string DevKeyAddress = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>A keystore that opens in milliseconds (the usual cost takes seconds, more on a loaded machine); the
    /// cost is the file's own, read from it like any other.</summary>
    private const int LightScrypt = 1024;

    [Fact]
    public void the_documented_password_variable_and_the_configured_one_are_secrets_not_unknown_settings()
    {
        using var dir = new TempDir();
        var keystore = dir.File("miner.json");
        TxKey.WriteKeystore(keystore, DevKey, "env secret", LightScrypt);
        string Config(string variable)
        {
            var path = dir.File($"{variable}.json");
            File.WriteAllText(path, JsonSerializer.Serialize(new
            {
                Chain = new { RollupAddress = "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
                Key = new { KeystorePath = keystore, PasswordEnvironmentVariable = variable },
            }));
            return path;
        }

        // Given to the binder rather than set on this process, whose environment other tests' children inherit.
        var shared = new Dictionary<string, string> { ["ZKPOW_Sender__FundsInterval"] = "7s", ["HOME"] = "/root" };
        System.Collections.Hashtable Variables(params string[] secrets)
        {
            var variables = new System.Collections.Hashtable(shared);
            foreach (var secret in secrets)
            {
                variables[secret] = "env secret";
            }

            return variables;
        }

        // The documented variable, and the one the configuration names, are secrets; a real setting still applies.
        var documented = OptionsBinder.Bind(OptionsBinder.Load(Config("ZKPOW_KEYSTORE_PASSWORD"), [], Variables("ZKPOW_KEYSTORE_PASSWORD")));
        Assert.Equal("ZKPOW_KEYSTORE_PASSWORD", documented.Key.PasswordEnvironmentVariable);
        Assert.Equal(TimeSpan.FromSeconds(7), documented.Sender.FundsInterval);
        var named = OptionsBinder.Bind(OptionsBinder.Load(Config("ZKPOW_MINER_SECRET"), [], Variables("ZKPOW_MINER_SECRET", "ZKPOW_KEYSTORE_PASSWORD")));
        Assert.Equal("ZKPOW_MINER_SECRET", named.Key.PasswordEnvironmentVariable);
        Assert.Equal(TimeSpan.FromSeconds(7), named.Sender.FundsInterval);

        // Any other ZKPOW_ variable is still a setting, refused by name when it is not one.
        var stray = Assert.Throws<OptionsException>(() =>
            OptionsBinder.Bind(OptionsBinder.Load(Config("ZKPOW_KEYSTORE_PASSWORD"), [], Variables("ZKPOW_KEYSTORE_PASSWORD", "ZKPOW_MINER_SECRET"))));
        Assert.Equal("MINER_SECRET", stray.Key);
        var error = Assert.Throws<OptionsException>(() => OptionsBinder.Bind(OptionsBinder.Load(Config("ZKPOW_MINER_SECRET"), ["--KEYSTORE_PASSWORD=x"], Variables())));
        Assert.Equal("KEYSTORE_PASSWORD", error.Key);

    }

    [Fact]
    public async Task zkpow_run_reads_the_keystore_password_from_ZKPOW_KEYSTORE_PASSWORD()
    {
        using var dir = new TempDir();
        var keystore = dir.File("miner.json");
        TxKey.WriteKeystore(keystore, DevKey, "env secret", LightScrypt);
        var config = dir.File("aggregator.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Chain = new { RpcUrl = "http://127.0.0.1:1", RollupAddress = "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
            Key = new { KeystorePath = keystore, PasswordEnvironmentVariable = "ZKPOW_KEYSTORE_PASSWORD" },
        }));

        // Past the configuration and the keystore, it waits for the unreachable chain.
        using var run = ChildProcess.Zkpow(new Dictionary<string, string?> { ["ZKPOW_KEYSTORE_PASSWORD"] = "env secret" }, "run", "--config", config, "--Http:Port=0");
        await WaitForTheChainAsync(run);
        Assert.DoesNotContain("KEYSTORE_PASSWORD", run.Stderr);
    }

    [Fact]
    public async Task keystore_and_password_files_that_others_can_read_are_warned_about()
    {
        using var dir = new TempDir();
        var keystore = dir.File("miner.json");
        var password = dir.File("miner.password");
        TxKey.WriteKeystore(keystore, DevKey, "file secret", LightScrypt);
        SecretFiles.Write(password, "file secret\n");
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(keystore));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(password));
        var config = dir.File("aggregator.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Chain = new { RpcUrl = "http://127.0.0.1:1", RollupAddress = "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
            Key = new { KeystorePath = keystore, PasswordFile = password },
        }));

        // Owner-only: loaded without a warning (the run then waits for the unreachable chain).
        using (var quiet = ChildProcess.Zkpow("run", "--config", config, "--Http:Port=0"))
        {
            await WaitForTheChainAsync(quiet);
            Assert.DoesNotContain("chmod 600", quiet.Stderr);
        }

        File.SetUnixFileMode(keystore, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.SetUnixFileMode(password, OwnerOnly | UnixFileMode.GroupRead);
        using var loud = ChildProcess.Zkpow("run", "--config", config, "--Http:Port=0");
        await WaitForTheChainAsync(loud);
        Assert.Contains($"secret file {keystore} can be read by group or others", loud.Stderr);
        Assert.Contains($"secret file {password} can be read by group or others", loud.Stderr);

        // Writing a secret over an exposed file tightens it.
        SecretFiles.Write(password, "file secret\n");
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(password));
    }

    [Fact]
    public async Task a_chain_that_is_not_a_devnet_needs_its_id_stated()
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0, ChainId = 4242 });
        var config = dir.File("aggregator.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Chain = new { chain.RpcUrl, RollupAddress = chain.Contracts.Rollup },
            Key = new { DevPrivateKey = chain.Miners[0].PrivateKey },
            Store = new { SqlitePath = dir.File("aggregator.db") },
        }));
        var stated = dir.File("stated.json");
        await File.WriteAllTextAsync(stated, JsonSerializer.Serialize(new
        {
            Chain = new { chain.RpcUrl, RollupAddress = chain.Contracts.Rollup },
            ExpectedChainId = 4242,
            Key = new { DevPrivateKey = chain.Miners[0].PrivateKey },
            Store = new { SqlitePath = dir.File("aggregator.db") },
        }));
        using (var unstated = ChildProcess.Zkpow("run", "--config", config, "--Http:Port=0"))
        {
            Assert.Equal(2, await unstated.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains("'ExpectedChainId': is required on chain 4242", unstated.Stderr);
        }

        // Stated, the check passes; the next one refuses the raw key on a chain that is not a devnet.
        using var run = ChildProcess.Zkpow("run", "--config", stated, "--Http:Port=0");
        Assert.Equal(2, await run.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("'Key:DevPrivateKey'", run.Stderr);
        Assert.DoesNotContain("'ExpectedChainId'", run.Stderr);
    }

    [Fact]
    public async Task the_devnet_writes_its_keystore_and_password_file_for_its_owner_only()
    {
        using var dir = new TempDir();
        var data = dir.File("devnet");
        await using (var network = await DevnetNetwork.StartAsync(new DevnetOptions { ExternalAggregator = true, Provers = 0, Sequences = 1, DataDir = data },
            NullLoggerFactory.Instance, CancellationToken.None))
        {
            var options = OptionsBinder.Bind(OptionsBinder.Load(Path.Combine(data, "aggregator.json"), []));
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(options.Key.KeystorePath!));
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(options.Key.PasswordFile!));
            Assert.Empty(TxKey.ExposedFiles(options.Key));
            Assert.Equal(network.Miners[0].Address, TxKey.Load(options.Key).Address, ignoreCase: true);
        }
    }

    /// <summary>Waits until start-up, past the configuration and the key, waits for the unreachable chain; then stops the
    /// process with SIGTERM (exit 143).</summary>
    private static async Task WaitForTheChainAsync(ChildProcess run)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!run.Stderr.Contains("Start-up waits for the base chain", StringComparison.Ordinal))
        {
            Assert.False(run.HasExited, run.Stderr);
            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(2), "start-up never waited for the chain: " + run.Stderr);
            await Task.Delay(100);
        }

        run.Signal(15);
        Assert.Equal(143, await run.WaitForExitAsync(TimeSpan.FromMinutes(1)));
    }
}
