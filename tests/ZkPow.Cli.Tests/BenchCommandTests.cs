using System.Text.Json;

namespace ZkPow.Cli.Tests;

public sealed class BenchCommandTests
{
    [Fact]
    public async Task bench_with_json_prints_exactly_one_json_object_with_the_measured_figures()
    {
        using var bench = ChildProcess.Zkpow("bench", "--provers", "4", "--sequences", "12", "--max-batches", "5", "--prover-latency", "5ms",
            "--seed", "3", "--json");
        Assert.Equal(0, await bench.WaitForExitAsync(TimeSpan.FromMinutes(2)));
        using var json = JsonDocument.Parse(bench.Stdout);
        var root = json.RootElement;
        var batches = root.GetProperty("batches").GetInt32();
        Assert.Equal(12, root.GetProperty("finalProofs").GetInt32());
        Assert.Equal(2 * batches, root.GetProperty("tasksCompleted").GetInt32());
        Assert.Equal("FULL", root.GetProperty("sqliteSynchronous").GetString());
        Assert.Equal(3, root.GetProperty("seed").GetInt32());
        foreach (var figure in new[] { "elapsedMs", "tasksPerSecond", "dispatchP50Ms", "dispatchP99Ms", "makespanRatio" })
        {
            Assert.True(root.GetProperty(figure).GetDouble() > 0, $"{figure} should be positive");
        }

        Assert.Contains("tasks", bench.Stderr);
    }

    [Fact]
    public async Task bench_refuses_bad_options_with_a_clear_message()
    {
        using var bench = ChildProcess.Zkpow("bench", "--prover-latency", "fast");
        Assert.NotEqual(0, await bench.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("'fast' is not a duration", bench.Stderr);
        Assert.Equal("", bench.Stdout.Trim());
    }
}
