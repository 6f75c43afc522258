using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using ZkPow.Devnet.Processes;

namespace ZkPow.Devnet.Network;

/// <summary>
/// One aggregator replica of a devnet miner: a <c>zkpow run --config &lt;miner-dir&gt;/replica-K.json</c> child process
/// (its own <c>Replica:Id</c>, prover port and HTTP port; the miner's database). Its standard error and output are
/// appended to <c>&lt;miner-dir&gt;/replica-K.log</c>. It is stopped by PID (SIGTERM, then SIGKILL), killed by PID
/// (SIGKILL) and started again with the same configuration; an exit the devnet did not cause is logged and counted. A
/// watchdog shell kills it if the devnet itself is killed.
/// </summary>
internal sealed partial class DevnetReplica : IAsyncDisposable
{
    private const int SigTerm = 15;
    private readonly IReadOnlyList<string> _command;
    private readonly IReadOnlyList<string> _overrides;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private Process? _process;
    private StreamWriter? _log;
    private bool _exitExpected;
    private int _unexpectedExits;

    /// <param name="minerIndex">the miner's number (1-based).</param>
    /// <param name="index">the replica's number within its miner (1-based).</param>
    /// <param name="id">its <c>Replica:Id</c>.</param>
    /// <param name="configPath">its configuration file.</param>
    /// <param name="logPath">where its output goes.</param>
    /// <param name="proverPort">its prover port.</param>
    /// <param name="httpPort">its operator HTTP port.</param>
    /// <param name="command">the executable and the arguments before <c>run</c> (see <see cref="CurrentExecutable"/>).</param>
    /// <param name="overrides">configuration overrides after <c>--config</c> (<c>--Generator:MaxAttempts=2</c>).</param>
    /// <param name="logger">the devnet's log.</param>
    public DevnetReplica(int minerIndex, int index, string id, string configPath, string logPath, int proverPort, int httpPort,
        IReadOnlyList<string> command, IReadOnlyList<string> overrides, ILogger logger)
    {
        MinerIndex = minerIndex;
        Index = index;
        Id = id;
        ConfigPath = configPath;
        LogPath = logPath;
        ProverPort = proverPort;
        HttpPort = httpPort;
        _command = command;
        _overrides = overrides;
        _logger = logger;
    }

    public int MinerIndex { get; }
    public int Index { get; }
    public string Id { get; }
    public string ConfigPath { get; }
    public string LogPath { get; }
    public int ProverPort { get; }
    public int HttpPort { get; }

    /// <summary>The replica's prover endpoint (what provers dial).</summary>
    public Uri ProverAddress => new($"http://127.0.0.1:{ProverPort}");

    /// <summary>The replica's operator endpoint (<c>/api/status</c>).</summary>
    public Uri StatusAddress => new($"http://127.0.0.1:{HttpPort}/");

    /// <summary>The running process's PID, or null.</summary>
    public int? Pid
    {
        get
        {
            lock (_lock)
            {
                return _process is { HasExited: false } p ? p.Id : null;
            }
        }
    }

    /// <summary>Exits the devnet did not cause (a crash, a failed start).</summary>
    public int UnexpectedExits => Volatile.Read(ref _unexpectedExits);

    /// <summary>
    /// The command that runs <c>zkpow</c> again: the current executable (<see cref="Environment.ProcessPath"/>), and when
    /// that is the <c>dotnet</c> host, the entry assembly's path first.
    /// </summary>
    public static IReadOnlyList<string> CurrentExecutable()
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this executable is not known; replicas cannot be started");
        var name = Path.GetFileNameWithoutExtension(path);
        if (string.Equals(name, "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            var entry = System.Reflection.Assembly.GetEntryAssembly()?.Location;
            if (string.IsNullOrEmpty(entry))
            {
                throw new InvalidOperationException("this process runs under dotnet without an entry assembly; replicas cannot be started");
            }

            return [path, entry];
        }

        return [path];
    }

    /// <summary>Starts the process (again, after a kill); its output is appended to <see cref="LogPath"/>.</summary>
    public void Start()
    {
        lock (_lock)
        {
            if (_process is { HasExited: false })
            {
                throw new InvalidOperationException($"replica {Id} is already running");
            }

            _process?.Dispose();
            _log ??= new StreamWriter(new FileStream(LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
            // In a session of its own (setsid keeps the PID): a terminal's Ctrl-C reaches the devnet only, which then
            // stops its replicas by PID, instead of every replica at once.
            var info = new ProcessStartInfo("setsid")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            // No diagnostics sockets: a replica killed by SIGKILL cannot remove its own.
            info.Environment["DOTNET_EnableDiagnostics"] = "0";
            foreach (var arg in _command.Concat(["run", "--config", ConfigPath]).Concat(_overrides))
            {
                info.ArgumentList.Add(arg);
            }

            var process = new Process { StartInfo = info, EnableRaisingEvents = true };
            var log = _log;
            process.OutputDataReceived += (_, e) => Append(log, e.Data);
            process.ErrorDataReceived += (_, e) => Append(log, e.Data);
            process.Exited += (_, _) => OnExited(process);
            _exitExpected = false;
            Append(log, $"--- zkpow devnet: starting replica {Id} at {DateTimeOffset.UtcNow:O} ---");
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _process = process;
            OrphanWatchdog.Start(process.Id);
            LogStarted(MinerIndex, Id, process.Id, ProverPort, HttpPort, LogPath);
        }
    }

    /// <summary>Kills the process by PID with SIGKILL (a crash) and waits for it to be gone; returns its PID, or null if
    /// it was not running.</summary>
    public int? Kill()
    {
        Process process;
        lock (_lock)
        {
            if (_process is not { HasExited: false } running)
            {
                return null;
            }

            _exitExpected = true;
            process = running;
            process.Kill();
        }

        process.WaitForExit(10_000);
        return process.Id;
    }

    /// <summary>Stops the process: SIGTERM (the aggregator drains and releases its lease), SIGKILL if it is still up
    /// after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        Process? process;
        lock (_lock)
        {
            process = _process;
            _exitExpected = true;
        }

        if (process is null || process.HasExited)
        {
            return;
        }

        _ = SendSignal(process.Id, SigTerm);
        using var wait = new CancellationTokenSource(grace);
        try
        {
            await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }
            }

            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
        lock (_lock)
        {
            _process?.WaitForExit(); // the last lines of output
            _process?.Dispose();
            _process = null;
            _log?.Dispose();
            _log = null;
        }
    }

    private void OnExited(Process process)
    {
        bool expected;
        int code;
        lock (_lock)
        {
            expected = _exitExpected || !ReferenceEquals(process, _process);
            code = process.ExitCode;
        }

        if (!expected)
        {
            Interlocked.Increment(ref _unexpectedExits);
            LogUnexpectedExit(MinerIndex, Id, process.Id, code, LogPath);
        }
    }

    private static void Append(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Output after the devnet closed the log.
            }
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Miner {Miner} replica {Id} started (PID {Pid}): provers dial port {ProverPort}, status on port {HttpPort}, log {Log}")]
    private partial void LogStarted(int miner, string id, int pid, int proverPort, int httpPort, string log);

    [LoggerMessage(Level = LogLevel.Error, Message = "Miner {Miner} replica {Id} (PID {Pid}) exited unexpectedly with code {Code}; see {Log}")]
    private partial void LogUnexpectedExit(int miner, string id, int pid, int code, string log);
}
