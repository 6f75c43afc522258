using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ZkPow.Cli.Tests;

/// <summary>The line <c>zkpow run</c> writes once it has started: the prover port and the operator endpoint's address.</summary>
internal static partial class AggregatorStartLine
{
    [GeneratedRegex(@"provers dial port (\d+); status at (http://[^ ]+/)api/status")]
    public static partial Regex Pattern();

    /// <summary>Waits (up to a minute) for the start line of <paramref name="run"/>; fails if the process exits first.</summary>
    public static async Task<Match> WaitAsync(ChildProcess run)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var started = Pattern().Match(run.Stderr);
            if (started.Success)
            {
                return started;
            }

            Assert.False(run.HasExited, run.Stderr);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), "the aggregator did not start: " + run.Stderr);
            await Task.Delay(100);
        }
    }
}
