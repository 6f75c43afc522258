using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using ZkPow.Devnet.Chain;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary>The ZkPow.TxCrashChild process (run with <c>dotnet</c>), its stdout lines, and a kill -9 by PID.</summary>
internal sealed class CrashChild : IDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    private CrashChild(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.Writer.TryComplete();
            }
            else
            {
                _lines.Writer.TryWrite(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int ProcessId => _process.Id;

    public static CrashChild Start(string rpcUrl, string dbPath, DevAccount account, string to, int count, string mode)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { ChildDll(), rpcUrl, dbPath, account.PrivateKey, to, count.ToString(CultureInfo.InvariantCulture), mode })
        {
            start.ArgumentList.Add(argument);
        }

        return new CrashChild(Process.Start(start) ?? throw new InvalidOperationException("could not start the crash child"));
    }

    /// <summary>Reads lines until one starts with <paramref name="prefix"/> <paramref name="count"/> times; returns those lines.</summary>
    public async Task<IReadOnlyList<string>> ReadUntilAsync(string prefix, int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var matched = new List<string>();
        while (matched.Count < count)
        {
            var line = await _lines.Reader.ReadAsync(cts.Token);
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                matched.Add(line);
            }
        }

        return matched;
    }

    /// <summary>SIGKILL by PID (what <see cref="Process.Kill()"/> sends on Unix): no clean-up runs in the child.</summary>
    public void KillHard()
    {
        using var byPid = Process.GetProcessById(ProcessId);
        byPid.Kill(entireProcessTree: false);
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // Gone already.
        }

        _process.Dispose();
    }

    private static string ChildDll()
    {
        var root = NodeTools.FindRepoRoot() ?? throw new InvalidOperationException("repository root not found");
        // .../tests/ZkPow.Devnet.Tests/bin/<Configuration>/<tfm>/
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = output.Parent!.Name;
        var dll = Path.Combine(root, "tests", "ZkPow.TxCrashChild", "bin", configuration, output.Name, "ZkPow.TxCrashChild.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("build tests/ZkPow.TxCrashChild first", dll);
    }
}
