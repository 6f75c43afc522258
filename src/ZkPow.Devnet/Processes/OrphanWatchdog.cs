using System.Diagnostics;

namespace ZkPow.Devnet.Processes;

/// <summary>
/// A detached shell that outlives this process when it is killed without cleaning up (SIGKILL): once this process is
/// gone it kills the child by PID. It exits by itself when the child ends first. Linux and other Unix systems with
/// <c>setsid</c>; elsewhere nothing is started.
/// </summary>
internal static class OrphanWatchdog
{
    public static void Start(int childPid)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var script = $"""
            while kill -0 {Environment.ProcessId} 2>/dev/null && kill -0 {childPid} 2>/dev/null; do sleep 2; done
            if ! kill -0 {Environment.ProcessId} 2>/dev/null; then kill -KILL {childPid} 2>/dev/null; fi
            """;
        var info = new ProcessStartInfo("setsid") { UseShellExecute = false };
        foreach (var arg in new[] { "-f", "/bin/sh", "-c", script })
        {
            info.ArgumentList.Add(arg);
        }

        using var watchdog = Process.Start(info);
    }
}
