using System.Diagnostics;
using Xunit.Abstractions;

namespace ZkPow.Cli.Tests;

/// <summary><c>zkpow bench</c> and <c>zkpow prover</c> stopped by Ctrl+C as a terminal sends it (SIGINT to the whole
/// process group) or by SIGTERM: exit code 130 / 143, no stack trace. How long the stop took is printed, not asserted.</summary>
public sealed class CommandSignalTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(2, 130)]
    [InlineData(15, 143)]
    public async Task a_signal_to_the_process_group_stops_the_benchmark_cleanly(int signal, int exitCode)
    {
        using var bench = ChildProcess.ZkpowInOwnGroup("bench", "--provers", "4", "--sequences", "3000", "--max-batches", "4", "--prover-latency", "20ms", "--no-limits");
        await WaitForAsync(bench, "bench: ", "the benchmark to make progress");
        await StopAndCheckAsync(bench, signal, exitCode);
    }

    [Theory]
    [InlineData(2, 130)]
    [InlineData(15, 143)]
    public async Task a_signal_to_the_process_group_stops_the_mock_prover_cleanly(int signal, int exitCode)
    {
        // No aggregator on that port: the prover is dialling (and dialling again) when the signal comes.
        using var prover = ChildProcess.ZkpowInOwnGroup("prover", "--aggregator", $"http://127.0.0.1:{ChildProcess.FreePort()}", "--name", "signal",
            "--reconnect-delay", "200ms");
        await WaitForAsync(prover, "dialing", "the prover to start");
        await StopAndCheckAsync(prover, signal, exitCode);
    }

    private async Task StopAndCheckAsync(ChildProcess child, int signal, int exitCode)
    {
        var clock = Stopwatch.StartNew();
        child.SignalGroup(signal);
        Assert.True(await child.WaitForExitAsync(TimeSpan.FromMinutes(1)) == exitCode, child.Stderr);
        output.WriteLine($"stopped in {clock.Elapsed.TotalSeconds:0.00} s after signal {signal}");
        Assert.DoesNotContain("Unhandled exception", child.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(@"(?m)^\s+at \S+\(.*\)", child.Stderr);
    }

    private static async Task WaitForAsync(ChildProcess child, string text, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!child.Stderr.Contains(text, StringComparison.Ordinal))
        {
            Assert.False(child.HasExited, $"exited while waiting for {what}: {child.Stderr}");
            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(1), $"timed out waiting for {what}: {child.Stderr}");
            await Task.Delay(100);
        }
    }
}
