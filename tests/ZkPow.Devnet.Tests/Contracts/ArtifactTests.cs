using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;

namespace ZkPow.Devnet.Tests.Contracts;

/// <summary>The committed (and embedded) contract artifacts must be what the pinned compiler builds from the sources.</summary>
public sealed class ArtifactTests
{
    private static readonly string Root = NodeTools.FindRepoRoot() ?? throw new InvalidOperationException("repository root not found");

    [Fact]
    public void sources_match_the_hashes_recorded_at_compile_time()
    {
        using var manifest = JsonDocument.Parse(ContractArtifact.ReadResource("manifest.json"));
        var recorded = manifest.RootElement.GetProperty("sources").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        var sources = Directory.GetFiles(Path.Combine(Root, "contracts", "src"), "*.sol").ToDictionary(f => Path.GetFileName(f), f => Sha256(File.ReadAllText(f)));
        Assert.Equal(recorded.Keys.Order(StringComparer.Ordinal), sources.Keys.Order(StringComparer.Ordinal));
        foreach (var (file, hash) in sources)
        {
            Assert.True(recorded[file] == hash, $"{file} changed since the artifacts were built: run node contracts/compile.js");
        }
    }

    [Fact]
    public void the_pinned_solc_built_the_artifacts()
    {
        using var package = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "package.json")));
        var dev = package.RootElement.GetProperty("devDependencies");
        using var manifest = JsonDocument.Parse(ContractArtifact.ReadResource("manifest.json"));
        Assert.StartsWith(dev.GetProperty("solc").GetString() + "+", manifest.RootElement.GetProperty("solcVersion").GetString(), StringComparison.Ordinal);
        Assert.Equal("1.7.1", dev.GetProperty("@foundry-rs/anvil").GetString());
    }

    [Fact]
    public void every_custom_error_of_the_contracts_decodes_by_name()
    {
        var errors = 0;
        foreach (var name in ContractArtifact.Names)
        {
            using var abi = JsonDocument.Parse(ContractArtifact.Load(name).AbiJson);
            foreach (var entry in abi.RootElement.EnumerateArray().Where(e => e.GetProperty("type").GetString() == "error"))
            {
                var error = entry.GetProperty("name").GetString()!;
                var types = entry.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("type").GetString()).ToList();
                var data = Abi.Call($"{error}({string.Join(',', types)})", [.. types.Select(_ => AbiArg.Uint(7))]);
                var revert = ChainRevert.Decode(HexData.Encode(data));
                Assert.True(revert.Error != ChainError.Unknown, $"{name}: {error} is not in the revert table");
                Assert.Equal(error, revert.Name);
                Assert.Equal(error, Enum.GetName(revert.Error));
                errors++;
            }
        }

        Assert.True(errors >= 20, $"only {errors} custom errors in the artifacts");
    }

    [Fact]
    public void the_embedded_artifacts_are_the_committed_files()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(Root, "contracts", "artifacts"), "*.json"))
        {
            Assert.Equal(File.ReadAllText(file), ContractArtifact.ReadResource(Path.GetFileName(file)));
        }

        foreach (var name in ContractArtifact.Names)
        {
            Assert.NotEmpty(ContractArtifact.Load(name).Bytecode);
        }
    }

    [Fact]
    public async Task recompiling_the_sources_reproduces_the_committed_artifacts()
    {
        await NodeTools.EnsureInstalledAsync(Root, CancellationToken.None);
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine("contracts", "compile.js"));
        start.ArgumentList.Add("--check");
        using var node = Process.Start(start)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync();
        Assert.True(node.ExitCode == 0, $"{await stdout}\n{await stderr}");
    }

    private static string Sha256(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.Replace("\r\n", "\n", StringComparison.Ordinal))));
}
