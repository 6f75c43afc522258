using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ZkPow.Devnet.Chain;

/// <summary>
/// The npm-pinned tools (anvil, solc) of the repository: locates the repository root and runs <c>npm ci</c> there
/// when they are missing, under an exclusive file lock so that concurrent processes never install at the same time.
/// </summary>
internal static class NodeTools
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan LockRetry = TimeSpan.FromMilliseconds(200);

    /// <summary>The folder holding ZkPow.slnx and package-lock.json, found by walking up from <paramref name="start"/>; null if none.</summary>
    public static string? FindRepoRoot(string? start = null)
    {
        for (var dir = new DirectoryInfo(start ?? AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ZkPow.slnx")) && File.Exists(Path.Combine(dir.FullName, "package-lock.json")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    /// <summary>The path of the npm-installed anvil binary for this platform under <paramref name="repoRoot"/>.</summary>
    public static string AnvilPath(string repoRoot)
    {
        var (package, exe) = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 when OperatingSystem.IsLinux() => ("anvil-linux-amd64", "anvil"),
            Architecture.Arm64 when OperatingSystem.IsLinux() => ("anvil-linux-arm64", "anvil"),
            Architecture.X64 when OperatingSystem.IsMacOS() => ("anvil-darwin-amd64", "anvil"),
            Architecture.Arm64 when OperatingSystem.IsMacOS() => ("anvil-darwin-arm64", "anvil"),
            Architecture.X64 when OperatingSystem.IsWindows() => ("anvil-win32-amd64", "anvil.exe"),
            var other => throw new PlatformNotSupportedException($"no npm anvil build for {RuntimeInformation.OSDescription} {other}"),
        };
        return Path.Combine(repoRoot, "node_modules", "@foundry-rs", package, "bin", exe);
    }

    /// <summary>The solc-js package folder under <paramref name="repoRoot"/>.</summary>
    public static string SolcPath(string repoRoot) => Path.Combine(repoRoot, "node_modules", "solc", "package.json");

    /// <summary>
    /// The anvil binary to run: <paramref name="explicitPath"/>, else env ANVIL_BINARY, else the repository's npm
    /// install (running <c>npm ci</c> first if anvil or solc is missing).
    /// </summary>
    public static async Task<string> EnsureAnvilAsync(string? explicitPath, CancellationToken ct)
    {
        var path = explicitPath ?? Environment.GetEnvironmentVariable("ANVIL_BINARY");
        if (!string.IsNullOrEmpty(path))
        {
            return File.Exists(path) ? path : throw new FileNotFoundException("anvil binary not found", path);
        }

        var root = FindRepoRoot()
            ?? throw new InvalidOperationException(
                "cannot find the repository root (ZkPow.slnx + package-lock.json) above " + AppContext.BaseDirectory +
                "; set ANVIL_BINARY to an anvil binary");
        await EnsureInstalledAsync(root, ct).ConfigureAwait(false);
        return AnvilPath(root);
    }

    /// <summary>Runs <c>npm ci</c> in <paramref name="repoRoot"/> unless anvil and solc are already installed.</summary>
    public static async Task EnsureInstalledAsync(string repoRoot, CancellationToken ct)
    {
        // Always under the lock: while another process's npm ci is still writing the anvil binary, the file already
        // exists, and running it then fails ("text file busy").
        var lockDir = Path.Combine(repoRoot, ".devnet");
        Directory.CreateDirectory(lockDir);
        await using var held = await AcquireLockAsync(Path.Combine(lockDir, "npm-install.lock"), ct).ConfigureAwait(false);
        if (Installed(repoRoot))
        {
            return; // installed before, or by another process while we waited
        }

        await RunNpmCiAsync(repoRoot, ct).ConfigureAwait(false);
        if (!Installed(repoRoot))
        {
            throw new InvalidOperationException($"npm ci finished but {AnvilPath(repoRoot)} is still missing");
        }
    }

    private static bool Installed(string repoRoot) => File.Exists(AnvilPath(repoRoot)) && File.Exists(SolcPath(repoRoot));

    private static async Task<FileStream> AcquireLockAsync(string path, CancellationToken ct)
    {
        // The lock file is left in place: deleting it on close would let a waiter lock an unlinked file.
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (waited.Elapsed < LockTimeout)
            {
                await Task.Delay(LockRetry, ct).ConfigureAwait(false);
            }
        }
    }

    private static async Task RunNpmCiAsync(string repoRoot, CancellationToken ct)
    {
        var start = new ProcessStartInfo
        {
            FileName = OperatingSystem.IsWindows() ? "npm.cmd" : "npm",
            WorkingDirectory = repoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "ci", "--no-audit", "--no-fund", "--include=optional" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start npm");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"npm ci failed in {repoRoot} (exit {process.ExitCode}):\n{await stdout.ConfigureAwait(false)}\n{await stderr.ConfigureAwait(false)}");
        }
    }
}
