using System.Diagnostics;
using System.Text.Json;
using ZkPow.Devnet.Chain;

namespace ZkPow.Cli.Tests;

/// <summary><c>zkpow</c> as a .NET tool: packed, installed into a tool path and run where there is no repository.</summary>
[Collection(DevnetCollection.Name)]
public sealed class ToolPackageTests
{
    private static string RepoRoot => NodeTools.FindRepoRoot() ?? throw new InvalidOperationException("no repository above " + AppContext.BaseDirectory);

    [Fact]
    public async Task the_packed_tool_installs_and_runs_a_devnet_from_an_empty_folder_outside_the_repository()
    {
        using var dir = new TempDir();
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            ? "Release"
            : "Debug";
        // A version of its own, so that no cached package of an earlier build is installed instead.
        var version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var nuget = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = dir.File("nuget-packages") };

        var pack = await RunAsync(dotnet, RepoRoot, nuget, "pack", Path.Combine(RepoRoot, "src", "ZkPow.Cli"), "--no-build", "-c", configuration,
            "-o", dir.File("nupkg"), $"-p:Version={version}");
        Assert.True(pack.ExitCode == 0, pack.Output);
        Assert.True(File.Exists(dir.File(Path.Combine("nupkg", $"zkpow.{version}.nupkg"))), pack.Output);

        var install = await RunAsync(dotnet, dir.Path, nuget, "tool", "install", "--tool-path", dir.File("tools"), "--add-source", dir.File("nupkg"),
            "--version", version, "zkpow");
        Assert.True(install.ExitCode == 0, install.Output);

        // An empty folder outside the repository; anvil comes from PATH or the per-user cache, not from the repository.
        var empty = Directory.CreateDirectory(dir.File("empty")).FullName;
        Assert.Null(NodeTools.FindRepoRoot(empty));
        var environment = new Dictionary<string, string?>
        {
            ["ANVIL_BINARY"] = null,
            ["DOTNET_ROOT"] = Path.GetDirectoryName(Path.GetFullPath(dotnet.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) ? dotnet : "/usr/share/dotnet/dotnet")),
        };
        var devnet = await RunAsync(dir.File(Path.Combine("tools", "zkpow")), empty, environment, TimeSpan.FromMinutes(5),
            "devnet", "--sequences", "3", "--exit-when-done", "--json", "--prover-port", ChildProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(devnet.ExitCode == 0, devnet.Output);
        using var report = JsonDocument.Parse(devnet.Stdout);
        Assert.Equal(3, report.RootElement.GetProperty("sequencesVerified").GetInt32());
        Assert.Equal(0, report.RootElement.GetProperty("slashes").GetInt32());
        var saved = Assert.Single(Directory.GetFiles(Path.Combine(empty, ".devnet"), "report.json", SearchOption.AllDirectories));
        Assert.Equal(3, JsonDocument.Parse(await File.ReadAllTextAsync(saved)).RootElement.GetProperty("sequencesVerified").GetInt32());
    }

    [Fact]
    public void the_pinned_anvil_version_is_the_one_package_json_installs()
    {
        using var package = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoRoot, "package.json")));
        Assert.Equal(NodeTools.AnvilVersion, package.RootElement.GetProperty("devDependencies").GetProperty("@foundry-rs/anvil").GetString());
    }

    [Fact]
    public async Task a_missing_anvil_given_with_the_anvil_flag_is_a_clear_error()
    {
        using var dir = new TempDir();
        using var devnet = ChildProcess.Zkpow("devnet", "--anvil", dir.File("no-anvil"), "--data-dir", dir.File("devnet"), "--sequences", "1", "--json");
        Assert.Equal(1, await devnet.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains($"no anvil binary at '{dir.File("no-anvil")}'", devnet.Stderr);
        Assert.Equal("", devnet.Stdout);
    }

    private static Task<(int ExitCode, string Stdout, string Output)> RunAsync(string file, string workingDirectory, Dictionary<string, string?> environment,
        params string[] args) => RunAsync(file, workingDirectory, environment, TimeSpan.FromMinutes(5), args);

    private static async Task<(int ExitCode, string Stdout, string Output)> RunAsync(string file, string workingDirectory, Dictionary<string, string?> environment,
        TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var output = await stdout;
        return (process.ExitCode, output, $"{file} {string.Join(' ', args)}\n{output}\n{await stderr}");
    }
}
