using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ZkPow.Devnet.Processes;

namespace ZkPow.Devnet.Chain;

/// <summary>An anvil process that this code started: its output is captured, and disposing it kills it (by PID).</summary>
internal sealed class AnvilProcess : IDisposable
{
    private const int KeptLines = 200;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _recent = new();
    private readonly Action<string>? _output;
    private int _disposed;

    private AnvilProcess(Process process, int port, Action<string>? output)
    {
        _process = process;
        Port = port;
        _output = output;
    }

    public int Port { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines anvil printed (for diagnostics).</summary>
    public IReadOnlyList<string> RecentOutput => [.. _recent];

    public static AnvilProcess Start(string anvilPath, int port, IEnumerable<string> arguments, Action<string>? output)
    {
        var start = new ProcessStartInfo
        {
            FileName = anvilPath,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--host");
        start.ArgumentList.Add("127.0.0.1");
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var anvil = new AnvilProcess(process, port, output);
        process.OutputDataReceived += (_, e) => anvil.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => anvil.OnLine(e.Data);
        if (!process.Start())
        {
            process.Dispose();
            throw new InvalidOperationException($"could not start {anvilPath}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // Killed by PID if this process dies without stopping it (a devnet or a test host killed with SIGKILL).
        OrphanWatchdog.Start(process.Id);
        return anvil;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited in between.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _recent.Enqueue(line);
        while (_recent.Count > KeptLines && _recent.TryDequeue(out _))
        {
        }

        _output?.Invoke(line);
    }
}
