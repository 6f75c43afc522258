using System.CommandLine;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Cli.Commands;

/// <summary><c>zkpow run --config FILE [--Section:Key=value ...]</c>: the aggregator against a real network.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "Configuration file (appsettings-style JSON); ZKPOW_ environment variables and --Section:Key=value overrides apply on top" };
        var logLevel = CliOptions.LogLevel(LogLevel.Information);
        var jsonLogs = new Option<bool>("--json-logs") { Description = "Write logs as JSON lines (to stderr)" };
        var command = new Command("run", "Run the aggregator: provers dial in, proofs are stored and submitted to the base chain")
        {
            config, logLevel, jsonLogs,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var loggers = CliLogging.Create(parse.GetValue(logLevel), parse.GetValue(jsonLogs));
            var log = loggers.CreateLogger("zkpow.run");
            AggregatorOptions options;
            try
            {
                var overrides = parse.UnmatchedTokens.ToList();
                foreach (var token in overrides.Where(t => !t.StartsWith("--", StringComparison.Ordinal) || !t.Contains(':', StringComparison.Ordinal)))
                {
                    throw new OptionsException(token, "is not an option; overrides look like --Section:Key=value");
                }

                options = OptionsBinder.Bind(OptionsBinder.Load(parse.GetValue(config), overrides));
            }
            catch (OptionsException ex)
            {
                await Console.Error.WriteLineAsync($"zkpow run: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            AggregatorNode node;
            try
            {
                node = await AggregatorNode.StartAsync(options, loggers, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            }
            catch (OptionsException ex)
            {
                await Console.Error.WriteLineAsync($"zkpow run: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            await using (node.ConfigureAwait(false))
            {
                await Console.Error.WriteLineAsync(
                    $"zkpow run: miner {node.Transactions.Address}; provers dial port {node.ProverServer.Port}; status at {node.Http.Address}api/status").ConfigureAwait(false);
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    log.LogInformation("Stopping");
                }
            }

            return 0;
        });
        return command;
    }
}
