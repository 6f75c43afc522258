using System.CommandLine;
using ZkPow.Cli.Commands;

namespace ZkPow.Cli;

/// <summary>The <c>zkpow</c> command line.</summary>
internal static class CliApp
{
    /// <summary>The signals of this process: commands read the exit code a signal asks for.</summary>
    public static CliSignals? Signals { get; private set; }

    public static RootCommand Build() => new("zkpow: the ZK-PoW prover aggregator, its devnet and its benchmarks")
    {
        DevnetCommand.Create(),
        RunCommand.Create(),
        StatusCommand.Status(),
        StatusCommand.Tasks(),
        DrainCommand.Create(),
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

        // Signals are handled here, not by System.CommandLine: its handler returns from Main after two seconds, cutting an
        // ordered stop short. A command's cancellation token is cancelled by the first SIGINT/SIGTERM and it stops in its
        // own time.
        using var signals = new CliSignals();
        Signals = signals;
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, signals.Token).ConfigureAwait(false);
        }
        finally
        {
            Signals = null;
        }
    }

    /// <summary>The exit code of a command that stopped: 130 / 143 if a signal stopped it, else <paramref name="normal"/>.</summary>
    public static int ExitCode(int normal) => Signals?.ExitCode ?? normal;
}
