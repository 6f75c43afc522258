using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ZkPow.Cli.Tests;

/// <summary>The <c>zkpow</c> executable run as a real child process, its output captured, killable by PID.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private ChildProcess(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Starts <c>zkpow</c> (the build next to the tests) with these arguments.</summary>
    public static ChildProcess Zkpow(params string[] args) => Zkpow(new Dictionary<string, string?>(), args);

    /// <summary>Starts <c>zkpow</c> as the leader of its own process group (through <c>setsid</c>, which keeps the PID), so
    /// that <see cref="SignalGroup"/> reaches it as a terminal's Ctrl+C reaches a foreground job.</summary>
    public static ChildProcess ZkpowInOwnGroup(params string[] args) => Start(new Dictionary<string, string?>(), args, ownGroup: true);

    /// <summary>As <see cref="Zkpow(string[])"/>, with these environment variables set (null removes one).</summary>
    public static ChildProcess Zkpow(IReadOnlyDictionary<string, string?> environment, params string[] args) => Start(environment, args, ownGroup: false);

    private static ChildProcess Start(IReadOnlyDictionary<string, string?> environment, string[] args, bool ownGroup)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = new ProcessStartInfo(ownGroup ? "setsid" : dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // No diagnostics sockets: children killed by SIGKILL cannot remove theirs.
        info.Environment["DOTNET_EnableDiagnostics"] = "0";
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        if (ownGroup)
        {
            info.ArgumentList.Add(dotnet);
        }

        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "zkpow.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (child._stdout)
                {
                    child._stdout.AppendLine(e.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (child._stderr)
                {
                    child._stderr.AppendLine(e.Data);
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>SIGKILL by PID: no clean-up code of the child runs.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }

        _process.WaitForExit();
    }

    /// <summary>SIGTERM by PID, as an operator's stop: the child shuts down cleanly (and stops what it started).
    /// Falls back to SIGKILL after <paramref name="grace"/>.</summary>
    public async Task TerminateAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return;
        }

        _ = SendSignal(_process.Id, 15);
        try
        {
            await WaitForExitAsync(grace);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    /// <summary>Sends <paramref name="signal"/> (2 = SIGINT, 15 = SIGTERM) to the child by PID, as an operator or a
    /// supervisor would.</summary>
    public void Signal(int signal)
    {
        if (SendSignal(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed");
        }
    }

    /// <summary>Sends <paramref name="signal"/> to the child's whole process group (see <see cref="ZkpowInOwnGroup"/>), as
    /// a terminal does on Ctrl+C.</summary>
    public void SignalGroup(int signal)
    {
        if (SendSignal(-_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill(-{_process.Id}, {signal}) failed");
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Stops the child if it still runs: SIGTERM first, so that it stops what it started, then SIGKILL.</summary>
    public void Dispose()
    {
        try
        {
            TerminateAsync(TimeSpan.FromSeconds(15)).GetAwaiter().GetResult();
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
