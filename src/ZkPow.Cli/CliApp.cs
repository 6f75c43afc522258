using System.CommandLine;
using ZkPow.Cli.Commands;

namespace ZkPow.Cli;

/// <summary>The <c>zkpow</c> command line.</summary>
internal static class CliApp
{
    public static RootCommand Build() => new("zkpow: the ZK-PoW prover aggregator, its devnet and its benchmarks")
    {
        DevnetCommand.Create(),
        RunCommand.Create(),
        StatusCommand.Status(),
        StatusCommand.Tasks(),
        BenchCommand.Create(),
        ProverCommand.Create(),
        TokenCommand.Create(),
    };

    public static async Task<int> RunAsync(string[] args)
    {
        var parsed = Build().Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // Errors go to stderr only: stdout stays clean for scripts that parse it.
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync($"zkpow: {error.Message}").ConfigureAwait(false);
            }

            await Console.Error.WriteLineAsync("Run 'zkpow --help' (or 'zkpow <command> --help') for the options.").ConfigureAwait(false);
            return 2;
        }

        return await parsed.InvokeAsync().ConfigureAwait(false);
    }
}
