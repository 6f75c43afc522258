using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace ZkPow.Devnet.Storage;

/// <summary>
/// A throwaway local PostgreSQL cluster (the devnet's <c>--store postgres</c>, and the tests'):
/// <list type="bullet">
/// <item>Binaries: the highest version under <c>/usr/lib/postgresql/*/bin</c>; when there is none, the Debian package
/// <c>postgresql</c> is installed through <see cref="DebianPackages"/> (only as root, under its lock; otherwise the
/// start fails naming the package).</item>
/// <item>User: <c>initdb</c> refuses to run as root, so as root the cluster is created and run as the <c>postgres</c> user
/// (<c>runuser -u postgres --</c>, the folder chowned to it, and the folder's ancestors made traversable); otherwise as
/// the current user.</item>
/// <item>Where: <see cref="PostgresClusterOptions.Folder"/> (data, log, socket) and a free loopback port. Trust
/// authentication on 127.0.0.1 only; user <c>postgres</c>.</item>
/// <item>Durable by default: <c>fsync=on</c>, <c>synchronous_commit=on</c>, <c>full_page_writes=on</c>.</item>
/// <item>Stop: <c>pg_ctl stop -m fast</c>, then a kill of the postmaster by PID if it is still up; also on process exit.
/// A detached watchdog shell stops the server (by PID) once the owning process is gone, so a killed owner leaves no
/// server behind; the file <c>owner</c> (PID and start time) lets <see cref="CleanUpStale"/> find clusters of owners
/// that are gone.</item>
/// </list>
/// </summary>
internal sealed class PostgresCluster : IDisposable
{
    private readonly string _bin;
    private readonly bool _asPostgres;
    private readonly bool _removeOnStop;
    private int _stopped;

    private PostgresCluster(string bin, bool asPostgres, string folder, int port, int serverPid, bool durable, bool removeOnStop)
    {
        _bin = bin;
        _asPostgres = asPostgres;
        Folder = folder;
        Port = port;
        ServerPid = serverPid;
        Durable = durable;
        _removeOnStop = removeOnStop;
    }

    /// <summary>The folder holding the data directory (<c>data</c>), the server log and the socket.</summary>
    public string Folder { get; }

    public int Port { get; }

    /// <summary>The postmaster's PID.</summary>
    public int ServerPid { get; }

    /// <summary>Whether fsync, synchronous_commit and full_page_writes are on.</summary>
    public bool Durable { get; }

    /// <summary>Whether <see cref="Stop"/> has run.</summary>
    public bool Stopped => Volatile.Read(ref _stopped) == 1;

    /// <summary>The connection string of the maintenance database <c>postgres</c>.</summary>
    public string AdminConnectionString => ConnectionString("postgres");

    /// <summary>A connection string for <paramref name="database"/> on this cluster.</summary>
    public string ConnectionString(string database, int maxPoolSize = 20) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = database,
        MaxPoolSize = maxPoolSize,
        Timeout = 30,
        CommandTimeout = 60,
    }.ConnectionString;

    /// <summary>Creates the empty database <paramref name="name"/> (letters, digits and underscores) and returns its
    /// connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name, int maxPoolSize = 20, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 63 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_') || char.IsAsciiDigit(name[0]))
        {
            throw new ArgumentException($"'{name}' is not a plain database name (lower-case letters, digits, underscores)", nameof(name));
        }

        await using (var connection = new NpgsqlConnection(ConnectionString("postgres", 4)))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name};", connection);
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return ConnectionString(name, maxPoolSize);
    }

    /// <summary>Creates and starts a cluster in <see cref="PostgresClusterOptions.Folder"/>; stop it with <see cref="Stop"/>.</summary>
    public static async Task<PostgresCluster> StartAsync(PostgresClusterOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the local PostgreSQL cluster runs on Linux only");
        }

        var bin = Path.GetDirectoryName(await DebianPackages.RequireAsync("postgresql", "initdb", FindInitDb, cancellationToken).ConfigureAwait(false))!;
        var asPostgres = DebianPackages.IsRoot();
        var folder = Path.GetFullPath(options.Folder);
        if (Directory.Exists(Path.Combine(folder, "data")))
        {
            throw new ArgumentException($"{folder} already holds a PostgreSQL cluster");
        }

        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "owner"), $"{Environment.ProcessId} {StartTime(Environment.ProcessId)}", cancellationToken)
            .ConfigureAwait(false);
        if (asPostgres)
        {
            await MakeTraversableAsync(folder, cancellationToken).ConfigureAwait(false);
            await RunAsync("chown", ["-R", "postgres:postgres", folder], asPostgres: false, cancellationToken).ConfigureAwait(false);
        }

        var data = Path.Combine(folder, "data");
        await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"], asPostgres, cancellationToken)
            .ConfigureAwait(false);
        var flag = options.Durable ? "on" : "off";
        Exception? last = null;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var port = FreePort();
            var settings = string.Join(' ',
                $"-p {port}", "-c listen_addresses=127.0.0.1", $"-k {folder}", $"-c max_connections={options.MaxConnections}",
                $"-c fsync={flag}", $"-c synchronous_commit={flag}", $"-c full_page_writes={flag}");
            try
            {
                await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60", "-o", settings, "start"],
                    asPostgres, cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidOperationException e)
            {
                // Most likely the port was taken between the probe and the start; try another.
                last = new InvalidOperationException($"{e.Message}\n{ReadLog(folder)}", e);
                continue;
            }

            var pid = int.Parse(File.ReadLines(Path.Combine(data, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
            var cluster = new PostgresCluster(bin, asPostgres, folder, port, pid, options.Durable, options.RemoveOnStop);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.Stop();
            StartWatchdog(cluster);
            return cluster;
        }

        if (options.RemoveOnStop)
        {
            Remove(folder);
        }

        throw new InvalidOperationException($"the PostgreSQL cluster did not start: {last?.Message}", last);
    }

    /// <summary>Stops the server (fast shutdown, then a kill by PID) and, if asked, deletes its folder. Idempotent.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        try
        {
            RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(Folder, "data"), "-m", "fast", "-w", "-t", "30", "stop"], _asPostgres, CancellationToken.None)
                .GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            Kill(ServerPid);
        }

        if (_removeOnStop)
        {
            Remove(Folder);
        }
        else
        {
            // The watchdog ends once the owner file is gone.
            try
            {
                File.Delete(Path.Combine(Folder, "owner"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    public void Dispose() => Stop();

    /// <summary>Stops and deletes the clusters in the folders <paramref name="parent"/>/<paramref name="prefix"/>* whose
    /// owner process (PID and start time, in the file <c>owner</c>) no longer exists.</summary>
    public static void CleanUpStale(string parent, string prefix)
    {
        foreach (var folder in Directory.GetDirectories(parent, prefix + "*"))
        {
            try
            {
                var owner = File.ReadAllText(Path.Combine(folder, "owner")).Split(' ');
                var pid = int.Parse(owner[0], CultureInfo.InvariantCulture);
                if (StartTime(pid) == owner[1])
                {
                    continue; // a live owner's cluster
                }
            }
            catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException)
            {
                // No readable owner file: a cluster being created right now, or a broken folder; judge by its age.
                if (Directory.GetLastWriteTimeUtc(folder) > DateTime.UtcNow.AddMinutes(-10))
                {
                    continue;
                }
            }

            var pidFile = Path.Combine(folder, "data", "postmaster.pid");
            if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), CultureInfo.InvariantCulture, out var server)
                && IsServerOf(server, folder))
            {
                Kill(server);
            }

            Remove(folder);
        }
    }

    private static string? FindInitDb()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }

        return Directory.GetDirectories(root)
            .Select(d => (Dir: d, Version: Version.TryParse(Path.GetFileName(d), out var v) ? v : int.TryParse(Path.GetFileName(d), out var major) ? new Version(major, 0) : null))
            .Where(d => d.Version is not null && File.Exists(Path.Combine(d.Dir, "bin", "initdb")) && File.Exists(Path.Combine(d.Dir, "bin", "pg_ctl")))
            .OrderByDescending(d => d.Version)
            .Select(d => Path.Combine(d.Dir, "bin", "initdb"))
            .FirstOrDefault();
    }

    /// <summary>As root the server runs as <c>postgres</c>, which must reach the folder: every ancestor that others
    /// cannot traverse (a <c>mktemp -d</c> folder is 0700) gets <c>o+x</c> (traversal only, no listing).</summary>
    private static async Task MakeTraversableAsync(string folder, CancellationToken cancellationToken)
    {
        for (var dir = Path.GetDirectoryName(folder); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(dir) & UnixFileMode.OtherExecute) == 0)
            {
                await RunAsync("chmod", ["o+x", dir], asPostgres: false, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// A detached shell that outlives a killed owner: once the owner is gone it stops the server (by PID) and, for a
    /// cluster removed on stop, deletes the folder. It exits by itself after a normal stop (the owner file is gone).
    /// </summary>
    private static void StartWatchdog(PostgresCluster cluster)
    {
        var owner = Path.Combine(cluster.Folder, "owner");
        var remove = cluster._removeOnStop ? $"rm -rf '{cluster.Folder}';" : "";
        var script = $"""
            while [ -f '{owner}' ] && kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 2; done
            if [ -f '{owner}' ]; then kill -INT {cluster.ServerPid} 2>/dev/null; sleep 5; kill -KILL {cluster.ServerPid} 2>/dev/null; {remove} fi
            """;
        var info = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = false,
            RedirectStandardOutput = false,
            RedirectStandardError = false,
        };
        foreach (var arg in new[] { "-f", "/bin/sh", "-c", script })
        {
            info.ArgumentList.Add(arg);
        }

        using var watchdog = Process.Start(info);
    }

    /// <summary>Whether <paramref name="pid"/> is still the postmaster of the cluster in <paramref name="folder"/> (a PID
    /// from an old pid file may have been reused by an unrelated process).</summary>
    private static bool IsServerOf(int pid, string folder)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains(Path.Combine(folder, "data"), StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Asks the postmaster for a fast shutdown (SIGINT) and kills it if it is still up after 10 s.</summary>
    private static void Kill(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            using (var interrupt = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-INT", pid.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false }))
            {
                interrupt?.WaitForExit(5_000);
            }

            if (!process.WaitForExit(10_000))
            {
                process.Kill();
                process.WaitForExit(10_000);
            }
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    private static void Remove(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static string ReadLog(string folder)
    {
        try
        {
            return File.ReadAllText(Path.Combine(folder, "server.log"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    /// <summary>The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or "" if it is gone.</summary>
    private static string StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[19];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return string.Empty;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string file, string[] args, bool asPostgres, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(asPostgres ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/tmp",
        };
        if (asPostgres)
        {
            foreach (var arg in new[] { "-u", "postgres", "--", file })
            {
                info.ArgumentList.Add(arg);
            }
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        // pg_ctl start leaves the server holding inherited pipes open; read them without waiting for their end.
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (stdout) { stdout.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (stderr) { stderr.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within 2 minutes");
        }

        if (process.ExitCode != 0)
        {
            string output;
            lock (stdout)
            {
                lock (stderr)
                {
                    output = $"{stdout}\n{stderr}";
                }
            }

            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed (exit {process.ExitCode}):\n{output}");
        }
    }
}
