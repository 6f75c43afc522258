namespace ZkPow.Cli.Tests;

/// <summary><c>zkpow devnet</c> stopped by a signal by PID, as a supervisor stops it: the in-process aggregators stop
/// in order, the report is written, the exit code is the shell's (130 / 143), and no stack trace is printed.</summary>
[Collection(DevnetCollection.Name)]
public sealed class DevnetSignalTests
{
    [Theory]
    [InlineData(2, 130)]
    [InlineData(15, 143)]
    public async Task a_signal_by_pid_stops_the_devnet_cleanly_with_its_report(int signal, int exitCode)
    {
        using var dir = new TempDir();
        var data = dir.File("devnet");
        using var devnet = ChildProcess.Zkpow("devnet", "--t1", "2", "--t2", "5", "--provers", "2", "--prover-latency", "20ms", "--max-batches", "2",
            "--json", "--data-dir", data);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!devnet.Stderr.Contains("devnet up", StringComparison.Ordinal))
        {
            Assert.False(devnet.HasExited, devnet.Stderr);
            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(2), "the devnet did not start: " + devnet.Stderr);
            await Task.Delay(200);
        }

        devnet.Signal(signal);
        Assert.True(await devnet.WaitForExitAsync(TimeSpan.FromMinutes(1)) == exitCode, devnet.Stderr);
        Assert.DoesNotContain("Unhandled exception", devnet.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(@"(?m)^\s+at \S+\(.*\)", devnet.Stderr);
        Assert.True(File.Exists(Path.Combine(data, "report.json")), devnet.Stderr);
    }
}
