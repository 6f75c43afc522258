using Microsoft.Extensions.Configuration;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Aggregator.Tests.Hosting;

/// <summary>Options bound from keys and values as an operator writes them, with the two keys every configuration needs
/// (the rollup's address and a devnet key) added.</summary>
internal static class OperatorText
{
    public const string RollupAddress = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707";

    public static AggregatorOptions Bind(params (string Key, string Value)[] values) =>
        OptionsBinder.Bind(new ConfigurationBuilder().AddInMemoryCollection(
            values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))
                .Append(new("Chain:RollupAddress", RollupAddress))
                .Append(new("Key:DevPrivateKey", "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"))).Build());
}
