using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace ZkPow.Cli;

/// <summary>Logs always go to stderr, so that stdout carries only the command's output.</summary>
internal static class CliLogging
{
    public static ILoggerFactory Create(LogLevel minimum = LogLevel.Information, bool json = false) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(minimum);
        builder.AddFilter("Microsoft", LogLevel.Warning);
        builder.AddFilter("Grpc", LogLevel.Warning);
        builder.AddConsole(o =>
        {
            o.LogToStandardErrorThreshold = LogLevel.Trace;
            o.FormatterName = json ? ConsoleFormatterNames.Json : ConsoleFormatterNames.Simple;
        });
        if (json)
        {
            builder.AddJsonConsole(o => o.IncludeScopes = true);
        }
        else
        {
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
                o.IncludeScopes = true;
            });
        }
    });
}
