using System.CommandLine;
using System.CommandLine.Parsing;
using ZkPow.Aggregator;

namespace ZkPow.Cli;

/// <summary>Option builders shared by the commands.</summary>
internal static class CliOptions
{
    public static Option<TimeSpan> Duration(string name, string description, TimeSpan defaultValue) => new(name)
    {
        Description = $"{description} (e.g. 50ms, 2s, 1m; default {Durations.Format(defaultValue)})",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = ParseDuration,
    };

    public static Option<TimeSpan?> OptionalDuration(string name, string description) => new(name)
    {
        Description = $"{description} (e.g. 50ms, 2s, 1m)",
        CustomParser = r => ParseDuration(r),
    };

    private static TimeSpan ParseDuration(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (Durations.TryParse(text, out var value))
        {
            return value;
        }

        result.AddError($"'{text}' is not a duration for {result.Parent?.ToString() ?? "this option"} (examples: 50ms, 2s, 1m)");
        return TimeSpan.Zero;
    }

    public static Option<Microsoft.Extensions.Logging.LogLevel> LogLevel(Microsoft.Extensions.Logging.LogLevel defaultValue) => new("--log-level")
    {
        Description = $"Least severe log level written to stderr: Trace, Debug, Information, Warning, Error (default {defaultValue})",
        DefaultValueFactory = _ => defaultValue,
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print exactly one JSON object on stdout (logs and progress go to stderr)",
    };
}
