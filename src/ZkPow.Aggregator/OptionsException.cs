namespace ZkPow.Aggregator;

/// <summary>An invalid configuration value; the message names the key and says what is wrong.</summary>
public sealed class OptionsException(string key, string problem) : Exception($"configuration '{key}': {problem}")
{
    public string Key { get; } = key;
}
