using System.Diagnostics;

namespace ZkPow.Devnet.Storage;

/// <summary>
/// Debian packages the devnet (and the tests) need, for example <c>postgresql</c> for <c>initdb</c>:
/// <see cref="RequireAsync(string, string, Func{string?}, CancellationToken)"/> returns the binary's path, installing the
/// package first with apt-get only when the binary is missing and the process runs as root. Installs are serialised
/// across processes by an exclusive lock on <c>/tmp/zkpow-apt.lock</c>, and <c>apt-get update</c> runs at most once per
/// process. Without root it fails with a message that names the package to install.
/// </summary>
internal static class DebianPackages
{
    private const string LockPath = "/tmp/zkpow-apt.lock";
    private static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(15);
    private static readonly SemaphoreSlim InProcess = new(1, 1);
    private static bool s_updated;

    /// <summary>The full path of <paramref name="binary"/> (on PATH), installing <paramref name="package"/> if it is missing.</summary>
    public static Task<string> RequireAsync(string package, string binary, CancellationToken cancellationToken = default) =>
        RequireAsync(package, binary, () => Find(binary), cancellationToken);

    /// <summary>
    /// What <paramref name="find"/> returns (a path, for example of a binary outside PATH such as
    /// <c>/usr/lib/postgresql/15/bin/initdb</c>), installing <paramref name="package"/> first if it returns null;
    /// <paramref name="binary"/> names what is looked for in the error messages.
    /// </summary>
    public static async Task<string> RequireAsync(string package, string binary, Func<string?> find, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(find);
        if (find() is { } found)
        {
            return found;
        }

        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/apt-get"))
        {
            throw new InvalidOperationException($"'{binary}' is not installed: install the Debian package '{package}' (or its equivalent on this system)");
        }

        if (!IsRoot())
        {
            throw new InvalidOperationException($"'{binary}' is not installed and this process is not root: install it with 'sudo apt-get install -y {package}'");
        }

        await InProcess.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var held = await LockAsync(cancellationToken).ConfigureAwait(false);
            if (find() is { } installed)
            {
                return installed; // another process installed it while we waited
            }

            if (!s_updated)
            {
                await RunAsync(cancellationToken, "apt-get", "-o", "DPkg::Lock::Timeout=600", "update").ConfigureAwait(false);
                s_updated = true;
            }

            await RunAsync(cancellationToken, "apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "--no-install-recommends", package).ConfigureAwait(false);
            return find() ?? throw new InvalidOperationException($"apt-get installed '{package}' but '{binary}' is still not found");
        }
        finally
        {
            InProcess.Release();
        }
    }

    /// <summary>Whether the process's effective user is root.</summary>
    public static bool IsRoot()
    {
        try
        {
            // "Uid:" lists the real, effective, saved and file-system uids; the effective one decides.
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            return line?.Split('\t', StringSplitOptions.RemoveEmptyEntries) is { Length: > 2 } fields && fields[2] == "0";
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static string? Find(string binary)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/sbin").Append("/usr/bin"))
        {
            var candidate = Path.Combine(dir, binary);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static async Task<FileStream> LockAsync(CancellationToken cancellationToken)
    {
        // The lock file stays: deleting it on release would let a waiter lock an unlinked file.
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (waited.Elapsed < LockTimeout)
            {
                await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task RunAsync(CancellationToken cancellationToken, string file, params string[] args)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(LockTimeout);
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed (exit {process.ExitCode}):\n{await stdout.ConfigureAwait(false)}\n{await stderr.ConfigureAwait(false)}");
        }
    }
}
