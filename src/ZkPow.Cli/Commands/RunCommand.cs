using System.CommandLine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Cli.Commands;

/// <summary>
/// <c>zkpow run --config FILE [--Section:Key=value ...]</c>: the aggregator against a real network, on the Generic Host
/// with its console lifetime. Start-up waits for nodes that are down (the operator endpoint says what for); exit codes:
/// 2 for a configuration error (the key is named), 130 after SIGINT, 143 after SIGTERM, 1 for anything else.
/// </summary>
internal static class RunCommand
{
    /// <summary>How long the ordered stop may take before the parts still stopping are cut.</summary>
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(30);

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
                await Console.Error.WriteLineAsync($"zkpow run: {UrlRedaction.Redact(ex.Message)}").ConfigureAwait(false);
                return 2;
            }

            AggregatorHost host;
            try
            {
                host = AggregatorHost.Create(options, loggers, TimeProvider.System,
                    new AggregatorHostSettings { ConsoleLifetime = true, ShutdownTimeout = ShutdownTimeout });
            }
            catch (OptionsException ex)
            {
                await Console.Error.WriteLineAsync($"zkpow run: {UrlRedaction.Redact(ex.Message)}").ConfigureAwait(false);
                return 2;
            }

            var drained = false;
            await using (host.ConfigureAwait(false))
            {
                try
                {
                    await host.StartAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OptionsException or OptionsValidationException)
                {
                    await Console.Error.WriteLineAsync($"zkpow run: {UrlRedaction.Redact(ex.Message)}").ConfigureAwait(false);
                    return 2;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested || host.Stopping.IsCancellationRequested)
                {
                    log.LogInformation("Stopped while starting");
                    return CliApp.ExitCode(0);
                }
                catch (Exception ex)
                {
                    // Not a configuration error and not a node that is down (those are waited for): say what, on one line.
                    await Console.Error.WriteLineAsync($"zkpow run: the aggregator could not start: {ex.GetType().Name}: {UrlRedaction.Redact(ex.Message)}").ConfigureAwait(false);
                    return 1;
                }

                await Console.Error.WriteLineAsync(
                    $"zkpow run: miner {host.Node.MinerAddress}; provers dial port {host.Node.ProverPort}; status at {host.StatusAddress}api/status; dashboard at {host.StatusAddress}")
                    .ConfigureAwait(false);
                await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
                drained = host.Node.Drained;
                log.LogInformation(drained ? "Stopped after draining" : "Stopped");
            }

            // A drain that finished ends the run with 0; otherwise the run ends on a signal (130 / 143), and anything
            // else that stopped the host is an error.
            return drained ? 0 : CliApp.ExitCode(1);
        });
        return command;
    }
}
