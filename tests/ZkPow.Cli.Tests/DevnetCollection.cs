using Xunit.Abstractions;

[assembly: TestCollectionOrderer("ZkPow.Cli.Tests.DevnetsFirstOrderer", "ZkPow.Cli.Tests")]

namespace ZkPow.Cli.Tests;

/// <summary>The test classes that start whole devnets run one after another: a devnet takes its default ports (anvil
/// 8545, rollup node 8123, provers 50081, HTTP 9091) when they look free, and two starting at once can both see a port
/// free and then collide on it.</summary>
[CollectionDefinition(Name)]
public sealed class DevnetCollection
{
    public const string Name = "devnets";
}

/// <summary>Starts the serial "devnets" collection first. xunit runs as many collections at once as it has threads and
/// starts them in this order; the devnets take about as long as all the other classes together, so started last they
/// ran alone for minutes after everything else had finished, and started first they run beside the others.</summary>
public sealed class DevnetsFirstOrderer : ITestCollectionOrderer
{
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderBy(c => c.DisplayName == DevnetCollection.Name ? 0 : 1);
}
