namespace ZkPow.Cli.Tests;

/// <summary>The test classes that start whole devnets run one after another: a devnet takes its default ports (anvil
/// 8545, rollup node 8123, provers 50081, HTTP 9091) when they look free, and two starting at once can both see a port
/// free and then collide on it.</summary>
[CollectionDefinition(Name)]
public sealed class DevnetCollection
{
    public const string Name = "devnets";
}
