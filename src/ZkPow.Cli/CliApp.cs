using System.CommandLine;
using ZkPow.Cli.Commands;

namespace ZkPow.Cli;

/// <summary>The <c>zkpow</c> command line.</summary>
internal static class CliApp
{
    public static RootCommand Build() => new("zkpow: the ZK-PoW prover aggregator, its devnet and its benchmarks")
    {
        BenchCommand.Create(),
        ProverCommand.Create(),
    };

    public static async Task<int> RunAsync(string[] args)
    {
        var parsed = Build().Parse(args);
        return await parsed.InvokeAsync().ConfigureAwait(false);
    }
}
