using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ZkPow.Devnet.Chain;

/// <summary>
/// The npm-pinned tools (anvil, solc): in the repository, runs <c>npm ci</c> when they are missing; outside it (an
/// installed <c>zkpow</c>), finds anvil on PATH or installs the pinned version once into a per-user cache. Installs
/// run under an exclusive file lock so that concurrent processes never install at the same time.
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

    /// <summary>The anvil version the devnet is built and tested with (package.json pins the same).</summary>
    public const string AnvilVersion = "1.7.1";

    /// <summary>
    /// The anvil binary to run, the first of: <paramref name="explicitPath"/> (<c>--anvil</c>); env ANVIL_BINARY; the
    /// repository's npm install when running from a build inside the repository (running <c>npm ci</c> first if anvil
    /// or solc is missing); <c>anvil</c> on PATH; the pinned version in the per-user cache
    /// (<see cref="UserCacheDir"/>), installed there with npm the first time (a progress line goes to stderr).
    /// </summary>
    public static async Task<string> EnsureAnvilAsync(string? explicitPath, CancellationToken ct)
    {
        var path = explicitPath ?? Environment.GetEnvironmentVariable("ANVIL_BINARY");
        if (!string.IsNullOrEmpty(path))
        {
            return File.Exists(path) ? Path.GetFullPath(path) : throw new FileNotFoundException($"no anvil binary at '{path}'", path);
        }

        if (FindRepoRoot() is { } root)
        {
            await EnsureInstalledAsync(root, ct).ConfigureAwait(false);
            return AnvilPath(root);
        }

        return FindOnPath(OperatingSystem.IsWindows() ? "anvil.exe" : "anvil") ?? await EnsureCachedAnvilAsync(UserCacheDir(), ct).ConfigureAwait(false);
    }

    /// <summary>Where the pinned anvil is installed for this user: <c>$XDG_CACHE_HOME/zkpow/anvil-VERSION</c>, else
    /// <c>~/.cache/zkpow/anvil-VERSION</c> (the local application data folder on Windows).</summary>
    public static string UserCacheDir()
    {
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : OperatingSystem.IsWindows()
                ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "zkpow", "anvil-" + AnvilVersion);
    }

    /// <summary>The pinned anvil under <paramref name="cacheDir"/>, installed there with npm (under a lock) if missing.</summary>
    public static async Task<string> EnsureCachedAnvilAsync(string cacheDir, CancellationToken ct)
    {
        var anvil = AnvilPath(cacheDir);
        Directory.CreateDirectory(cacheDir);
        await using var held = await AcquireLockAsync(Path.Combine(cacheDir, "install.lock"), ct).ConfigureAwait(false);
        if (File.Exists(anvil))
        {
            return anvil;
        }

        await Console.Error.WriteLineAsync($"zkpow: installing anvil {AnvilVersion} with npm into {cacheDir} (once)…").ConfigureAwait(false);
        await RunNpmAsync(cacheDir, ["install", "--prefix", cacheDir, "--no-audit", "--no-fund", "--no-save", "--include=optional", $"@foundry-rs/anvil@{AnvilVersion}"], ct)
            .ConfigureAwait(false);
        return File.Exists(anvil) ? anvil : throw new InvalidOperationException($"npm installed @foundry-rs/anvil@{AnvilVersion} but {anvil} is missing");
    }

    private static string? FindOnPath(string executable)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, executable);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
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

        await RunNpmAsync(repoRoot, ["ci", "--no-audit", "--no-fund", "--include=optional"], ct).ConfigureAwait(false);
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

    private static async Task RunNpmAsync(string workingDirectory, string[] arguments, CancellationToken ct)
    {
        var start = new ProcessStartInfo
        {
            FileName = OperatingSystem.IsWindows() ? "npm.cmd" : "npm",
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in arguments)
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("could not start npm");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"npm is needed to install anvil {AnvilVersion} (or pass --anvil PATH, or put anvil on PATH): {e.Message}", e);
        }

        using var started = process;
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
                $"npm {arguments[0]} failed in {workingDirectory} (exit {process.ExitCode}):\n{await stdout.ConfigureAwait(false)}\n{await stderr.ConfigureAwait(false)}");
        }
    }
}
