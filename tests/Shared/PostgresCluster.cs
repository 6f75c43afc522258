using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ZkPow.Tests;

/// <summary>
/// A throwaway PostgreSQL cluster for the test run, shared by every test of the process (<see cref="SharedAsync"/>).
/// <list type="bullet">
/// <item>Binaries: the highest version under <c>/usr/lib/postgresql/*/bin</c>; when there is none, the Debian package
/// <c>postgresql</c> is installed through <see cref="DebianPackages"/> (as root, under its lock; otherwise the test fails
/// naming the package).</item>
/// <item>User: <c>initdb</c> refuses to run as root, so as root the cluster is created and run as the <c>postgres</c> user
/// (<c>runuser -u postgres --</c>, the folder chowned to it); otherwise as the current user.</item>
/// <item>Where: a fresh folder <c>/tmp/zkpow-pg-&lt;test run PID&gt;-&lt;random&gt;</c> (data, log, socket) and a free
/// loopback port. Trust authentication on 127.0.0.1 only; user <c>postgres</c>.</item>
/// <item>Durable by default: <c>fsync=on</c>, <c>synchronous_commit=on</c>, <c>full_page_writes=on</c> (the settings the
/// aggregator runs with). Setting the environment variable <c>ZKPOW_TEST_PG_FSYNC=off</c> turns all three off for
/// speed.</item>
/// <item>Clean-up: on process exit (<c>pg_ctl stop -m fast</c>, then a kill of the postmaster by PID if it is still up,
/// then the folder is deleted). A run that dies without cleaning up is caught twice: a detached watchdog shell stops the
/// server and deletes the folder once the test process is gone, and each new run stops and deletes the clusters of
/// folders whose owner process (PID and start time, in the file <c>owner</c>) no longer exists.</item>
/// </list>
/// Each test takes its own database (<see cref="CreateDatabaseAsync"/>), so tests run in parallel.
/// </summary>
internal sealed class PostgresCluster
{
    private const string FolderPrefix = "zkpow-pg-";
    private static readonly Lazy<Task<PostgresCluster>> s_shared = new(() => StartAsync(), LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly string _bin;
    private readonly bool _asPostgres;
    private int _stopped;

    private PostgresCluster(string bin, bool asPostgres, string folder, int port, int serverPid, bool durable)
    {
        _bin = bin;
        _asPostgres = asPostgres;
        Folder = folder;
        Port = port;
        ServerPid = serverPid;
        Durable = durable;
    }

    /// <summary>The folder holding the data directory (<c>data</c>), the server log and the socket.</summary>
    public string Folder { get; }

    public int Port { get; }

    /// <summary>The postmaster's PID.</summary>
    public int ServerPid { get; }

    /// <summary>Whether fsync, synchronous_commit and full_page_writes are on.</summary>
    public bool Durable { get; }

    /// <summary>The connection string of the maintenance database <c>postgres</c>.</summary>
    public string AdminConnectionString => ConnectionString("postgres");

    /// <summary>The cluster shared by every test of this process, started on first use.</summary>
    public static Task<PostgresCluster> SharedAsync() => s_shared.Value;

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

    /// <summary>Creates a fresh, empty database <c>t_&lt;guid&gt;</c> and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(int maxPoolSize = 20)
    {
        var name = "t_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(ConnectionString("postgres", 4)))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name};", connection);
            await create.ExecuteNonQueryAsync();
        }

        return ConnectionString(name, maxPoolSize);
    }

    /// <summary>A fresh database on the shared cluster.</summary>
    public static async Task<string> NewDatabaseAsync(int maxPoolSize = 20) =>
        await (await SharedAsync()).CreateDatabaseAsync(maxPoolSize);

    /// <summary>Starts a new cluster (the shared one is started by <see cref="SharedAsync"/>; stop others with <see cref="Stop"/>).</summary>
    public static async Task<PostgresCluster> StartAsync(bool? durable = null)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the PostgreSQL test cluster runs on Linux only");
        }

        CleanUpStale();
        var durableSettings = durable ?? !string.Equals(Environment.GetEnvironmentVariable("ZKPOW_TEST_PG_FSYNC"), "off", StringComparison.OrdinalIgnoreCase);
        var bin = Path.GetDirectoryName(await DebianPackages.RequireAsync("postgresql", "initdb", FindInitDb))!;
        var asPostgres = IsRoot();
        var folder = Path.Combine("/tmp", $"{FolderPrefix}{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "owner"), $"{Environment.ProcessId} {StartTime(Environment.ProcessId)}");
        if (asPostgres)
        {
            await RunAsync("chown", ["postgres:postgres", folder], asPostgres: false);
        }

        var data = Path.Combine(folder, "data");
        await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"], asPostgres);
        var flag = durableSettings ? "on" : "off";
        Exception? last = null;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var port = FreePort();
            var settings = string.Join(' ',
                $"-p {port}", "-c listen_addresses=127.0.0.1", $"-k {folder}", "-c max_connections=300",
                $"-c fsync={flag}", $"-c synchronous_commit={flag}", $"-c full_page_writes={flag}");
            try
            {
                await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60", "-o", settings, "start"],
                    asPostgres);
            }
            catch (InvalidOperationException e)
            {
                // Most likely the port was taken between the probe and the start; try another.
                last = new InvalidOperationException($"{e.Message}\n{ReadLog(folder)}", e);
                continue;
            }

            var pid = int.Parse(File.ReadLines(Path.Combine(data, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
            var cluster = new PostgresCluster(bin, asPostgres, folder, port, pid, durableSettings);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.Stop();
            StartWatchdog(cluster);
            return cluster;
        }

        Remove(folder);
        throw new InvalidOperationException($"the PostgreSQL test cluster did not start: {last?.Message}", last);
    }

    /// <summary>Stops the server (fast shutdown, then a kill by PID) and deletes its folder. Idempotent.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        try
        {
            RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(Folder, "data"), "-m", "fast", "-w", "-t", "30", "stop"], _asPostgres)
                .GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            Kill(ServerPid);
        }

        Remove(Folder);
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

    /// <summary>Stops and deletes the clusters of earlier test runs whose process is gone.</summary>
    internal static void CleanUpStale()
    {
        foreach (var folder in Directory.GetDirectories("/tmp", FolderPrefix + "*"))
        {
            try
            {
                var owner = File.ReadAllText(Path.Combine(folder, "owner")).Split(' ');
                var pid = int.Parse(owner[0], CultureInfo.InvariantCulture);
                if (StartTime(pid) == owner[1])
                {
                    continue; // a live test run's cluster
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

    /// <summary>
    /// A detached shell that outlives a killed test process: once the owner is gone it stops the server (by PID) and
    /// deletes the folder. It exits by itself after a normal stop (the folder is gone).
    /// </summary>
    private static void StartWatchdog(PostgresCluster cluster)
    {
        var script = $"""
            while [ -d '{cluster.Folder}' ] && kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 2; done
            if [ -d '{cluster.Folder}' ]; then kill -INT {cluster.ServerPid} 2>/dev/null; sleep 5; kill -KILL {cluster.ServerPid} 2>/dev/null; rm -rf '{cluster.Folder}'; fi
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

    private static bool IsRoot()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        return line?.Split('\t', StringSplitOptions.RemoveEmptyEntries) is { Length: > 2 } fields && fields[2] == "0";
    }

    private static async Task RunAsync(string file, string[] args, bool asPostgres)
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
        var stdout = new System.Text.StringBuilder();
        var stderr = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (stdout) { stdout.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (stderr) { stderr.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
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
