using System.Globalization;
using System.Numerics;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// Fills <see cref="AggregatorOptions"/> from configuration, refusing unknown keys and values of the wrong kind
/// with an <see cref="OptionsException"/> that names the key. Durations are written as operators write them (<c>2s</c>).
/// </summary>
public static class OptionsBinder
{
    /// <summary>Configuration section → the options objects bound from it (one section may feed two objects).</summary>
    private static IReadOnlyList<(string Section, Func<AggregatorOptions, object> Target)> Sections { get; } =
    [
        ("Store", o => o.Store),
        ("Provers", o => o.ProverServer),
        ("Provers", o => o.Provers),
        ("Generator", o => o.Generator),
        ("Chain", o => o.Chain),
        ("Key", o => o.Key),
        ("TxManager", o => o.TxManager),
        ("Http", o => o.Http),
        ("Sync", o => o.Sync),
        ("Sender", o => o.Sender),
        ("Health", o => o.Health),
        ("Leader", o => o.Leader),
        ("Replica", o => o.Replica),
        ("Tracing", o => o.Tracing),
    ];

    private static readonly string[] s_rootValues = [nameof(AggregatorOptions.ExpectedChainId)];

    public static AggregatorOptions Bind(IConfiguration configuration)
    {
        var options = BindUnvalidated(configuration);
        options.Validate();
        return options;
    }

    /// <summary>Fills the options, refusing unknown keys and badly typed values, without validating them as a whole.</summary>
    internal static AggregatorOptions BindUnvalidated(IConfiguration configuration)
    {
        var options = new AggregatorOptions();
        foreach (var child in configuration.GetChildren())
        {
            if (child.Value is not null && !child.GetChildren().Any())
            {
                if (!s_rootValues.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                {
                    throw new OptionsException(child.Key, $"unknown key (known sections: {string.Join(", ", Sections.Select(s => s.Section).Distinct())}, and {string.Join(", ", s_rootValues)})");
                }

                options.ExpectedChainId = (ulong?)Convert(child.Value, typeof(ulong?), child.Path);
                continue;
            }

            var targets = Sections.Where(s => string.Equals(s.Section, child.Key, StringComparison.OrdinalIgnoreCase)).Select(s => s.Target(options)).ToList();
            if (targets.Count == 0)
            {
                throw new OptionsException(child.Path, $"unknown section (known: {string.Join(", ", Sections.Select(s => s.Section).Distinct())})");
            }

            foreach (var entry in child.GetChildren())
            {
                var bound = false;
                foreach (var target in targets)
                {
                    var property = target.GetType().GetProperty(entry.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
                    if (property is null || !property.CanWrite)
                    {
                        continue;
                    }

                    if (ListElement(property.PropertyType) is { } element)
                    {
                        property.SetValue(target, BindList(entry, element));
                        bound = true;
                        continue;
                    }

                    if (DictionaryValue(property.PropertyType) is { } valueType)
                    {
                        BindDictionary(entry, (System.Collections.IDictionary)property.GetValue(target)!, valueType);
                        bound = true;
                        continue;
                    }

                    if (entry.Value is null)
                    {
                        throw new OptionsException(entry.Path, "must be a single value");
                    }

                    property.SetValue(target, Convert(entry.Value, property.PropertyType, entry.Path));
                    bound = true;
                }

                if (!bound)
                {
                    var known = targets.SelectMany(t => t.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name));
                    throw new OptionsException(entry.Path, $"unknown key (known in {child.Key}: {string.Join(", ", known)})");
                }
            }
        }

        return options;
    }

    private static Type? ListElement(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) ? type.GetGenericArguments()[0] : null;

    private static Type? DictionaryValue(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>) && type.GetGenericArguments()[0] == typeof(string)
            ? type.GetGenericArguments()[1]
            : null;

    /// <summary>A map is written as a JSON object (<c>"GasLimitMultipliers": { "verifyBatches": 3 }</c>, or
    /// <c>TxManager:GasLimitMultipliers:verifyBatches=3</c>); its entries are added to the defaults or replace them.</summary>
    private static void BindDictionary(IConfigurationSection section, System.Collections.IDictionary dictionary, Type valueType)
    {
        var items = section.GetChildren().ToList();
        if (section.Value is not null && items.Count == 0)
        {
            throw new OptionsException(section.Path, "must be an object of names and values (a JSON object)");
        }

        foreach (var item in items)
        {
            dictionary[item.Key] = Convert(item.Value ?? throw new OptionsException(item.Path, "must be a single value"), valueType, item.Path);
        }
    }

    /// <summary>
    /// A list is written as a JSON array (<c>"Allow": ["10.0.0.0/8", "127.0.0.1"]</c>, or <c>Provers:Allow:0=…</c>) or,
    /// for a list of values, as one comma-separated value (<c>ZKPOW_Provers__Allow=10.0.0.0/8,127.0.0.1</c>). A list of
    /// objects (<c>Provers:Tokens</c>) is an array of objects whose keys are checked like any other.
    /// </summary>
    private static System.Collections.IList BindList(IConfigurationSection section, Type element)
    {
        var list = (System.Collections.IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
        var items = section.GetChildren().ToList();
        if (section.Value is not null && items.Count == 0)
        {
            if (element != typeof(string))
            {
                throw new OptionsException(section.Path, "must be a list of objects (a JSON array)");
            }

            foreach (var item in section.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                list.Add(item);
            }

            return list;
        }

        foreach (var item in items.OrderBy(i => int.TryParse(i.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : int.MaxValue))
        {
            if (!int.TryParse(item.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                throw new OptionsException(item.Path, "must be a list (a JSON array)");
            }

            if (element == typeof(string))
            {
                list.Add(item.Value ?? throw new OptionsException(item.Path, "must be a single value"));
                continue;
            }

            if (item.Value is not null && !item.GetChildren().Any())
            {
                throw new OptionsException(item.Path, $"must be an object with {string.Join(", ", Writable(element))}");
            }

            var value = Activator.CreateInstance(element)!;
            foreach (var field in item.GetChildren())
            {
                var property = element.GetProperty(field.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
                if (property is null || !property.CanWrite)
                {
                    throw new OptionsException(field.Path, $"unknown key (known: {string.Join(", ", Writable(element))})");
                }

                property.SetValue(value, Convert(field.Value ?? throw new OptionsException(field.Path, "must be a single value"), property.PropertyType, field.Path));
            }

            list.Add(value);
        }

        return list;
    }

    private static IEnumerable<string> Writable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name);

    private static object? Convert(string text, Type type, string key)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (text.Length == 0 && target != typeof(string))
        {
            return Nullable.GetUnderlyingType(type) is not null ? null : throw new OptionsException(key, "must not be empty");
        }

        try
        {
            if (target == typeof(string))
            {
                return text;
            }

            if (target == typeof(TimeSpan))
            {
                return Durations.Parse(text, key);
            }

            if (target == typeof(bool))
            {
                return bool.Parse(text);
            }

            if (target == typeof(BigInteger))
            {
                return BigInteger.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
            }

            if (target.IsEnum)
            {
                return Enum.Parse(target, text, ignoreCase: true);
            }

            return System.Convert.ChangeType(text, target, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException or InvalidCastException)
        {
            throw new OptionsException(key, $"'{text}' is not a valid {Describe(target)}");
        }
    }

    private static string Describe(Type type) => type switch
    {
        _ when type == typeof(int) || type == typeof(long) || type == typeof(ulong) || type == typeof(BigInteger) => "whole number",
        _ when type == typeof(double) || type == typeof(decimal) => "number",
        _ when type == typeof(bool) => "true/false value",
        _ when type.IsEnum => $"value ({string.Join(", ", Enum.GetNames(type))})",
        _ => type.Name,
    };

    /// <summary>The prefix of environment variables that are settings (<c>ZKPOW_Provers__Port=50082</c>).</summary>
    public const string EnvironmentPrefix = "ZKPOW_";

    /// <summary>The documented environment variable for the keystore password: a secret, never read as a setting.</summary>
    public const string DefaultPasswordVariable = "ZKPOW_KEYSTORE_PASSWORD";

    /// <summary>ZKPOW_ environment variables as configuration keys (<c>__</c> separates sections), as
    /// AddEnvironmentVariables maps them.</summary>
    private static Dictionary<string, string?> EnvironmentSettings(System.Collections.IDictionary variables)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (System.Collections.DictionaryEntry entry in variables)
        {
            if (entry.Key is string name && name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            {
                settings[name[EnvironmentPrefix.Length..].Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal)] = entry.Value as string;
            }
        }

        return settings;
    }

    /// <summary>Builds the configuration sources in precedence order: file, then ZKPOW_ environment, then overrides.
    /// The environment variable holding the keystore password is left out, though it may start with ZKPOW_.</summary>
    public static IConfiguration Load(string? path, IEnumerable<string> overrides) => Load(path, overrides, Environment.GetEnvironmentVariables());

    /// <summary>As <see cref="Load(string?, IEnumerable{string})"/>, with the environment variables given.</summary>
    internal static IConfiguration Load(string? path, IEnumerable<string> overrides, System.Collections.IDictionary environmentVariables)
    {
        var builder = new ConfigurationBuilder();
        if (path is not null)
        {
            if (!File.Exists(path))
            {
                throw new OptionsException("--config", $"no file at '{path}'");
            }

            builder.AddJsonFile(Path.GetFullPath(path), optional: false, reloadOnChange: false);
        }

        var environment = EnvironmentSettings(environmentVariables);
        builder.AddInMemoryCollection(environment);
        builder.AddCommandLine([.. overrides]);
        try
        {
            var configuration = builder.Build();
            // Secrets that share the prefix are not settings: the documented password variable, and whichever
            // variable Key:PasswordEnvironmentVariable names.
            foreach (var secret in new[] { DefaultPasswordVariable, configuration["Key:PasswordEnvironmentVariable"] })
            {
                if (secret is not null && secret.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
                {
                    environment.Remove(secret[EnvironmentPrefix.Length..].Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal));
                }
            }

            return builder.Build();
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            throw new OptionsException("--config", $"'{path}' is not valid JSON: {ex.Message}");
        }
    }
}
