using System.CommandLine;
using Microsoft.Extensions.Logging;
using ZkPow.Devnet.Bench;

namespace ZkPow.Cli.Commands;

/// <summary><c>zkpow bench txs</c>: the transaction manager against a local anvil with automine.</summary>
internal static class BenchTxsCommand
{
    public static Command Create()
    {
        var transactions = new Option<int>("--transactions") { Description = "Transactions to send", DefaultValueFactory = _ => 500 };
        var concurrency = new Option<int>("--concurrency") { Description = "Transactions in flight at once", DefaultValueFactory = _ => 64 };
        var confirmations = new Option<int>("--confirmations") { Description = "Depth at which a transaction counts as confirmed", DefaultValueFactory = _ => 1 };
        var json = CliOptions.Json();
        var logLevel = CliOptions.LogLevel(LogLevel.Warning);
        var command = new Command("txs", "Benchmark the transaction manager on a local anvil (automine, durable store)")
        {
            transactions, concurrency, confirmations, json, logLevel,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new TxBenchmarkOptions
            {
                Transactions = parse.GetValue(transactions),
                Concurrency = parse.GetValue(concurrency),
                Confirmations = parse.GetValue(confirmations),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException ex)
            {
                await Console.Error.WriteLineAsync($"zkpow bench txs: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            using var loggers = CliLogging.Create(parse.GetValue(logLevel));
            await Console.Error.WriteLineAsync($"bench txs: starting anvil and sending {options.Transactions} transactions").ConfigureAwait(false);
            var result = await new TxBenchmark(options, loggers).RunAsync(cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(result);
            }
            else
            {
                Console.Out.WriteLine($"""
                    Confirmed {result.Transactions} transactions ({result.Failed} failed) at depth {result.Confirmations} in {result.ElapsedMs / 1000:0.00} s
                      throughput   {result.ConfirmedTxPerSecond:0} confirmed tx/s
                      submit       p50 {result.SubmitP50Ms:0.0} ms, p99 {result.SubmitP99Ms:0.0} ms
                      confirm      p50 {result.ConfirmP50Ms:0.0} ms, p99 {result.ConfirmP99Ms:0.0} ms
                    """);
            }

            return result.Failed == 0 ? 0 : 1;
        });
        return command;
    }
}
