using ZkPow.Aggregator.Hosting;
using ZkPow.Devnet.Prover;

namespace ZkPow.Devnet.Network;

/// <summary>One devnet miner: its account, its aggregator (in-process, child processes (replicas), or none when it runs
/// outside) and its provers.</summary>
internal sealed class DevnetMiner(int index, string address, string configPath, AggregatorOptions options)
{
    public int Index { get; } = index;
    public string Address { get; } = address;
    public string ConfigPath { get; } = configPath;
    public AggregatorOptions Options { get; } = options;

    /// <summary>The file holding the operator token of the miner's aggregator (<c>--token-file</c>, the dashboard's token field).</summary>
    public string? OperatorTokenPath { get; init; }
    /// <summary>The in-process aggregator's host, or null when it runs outside.</summary>
    public AggregatorHost? Host { get; set; }

    /// <summary>The in-process aggregator's read-only view, or null.</summary>
    public AggregatorNode? Node => Host?.Node;
    public List<(MockProver Prover, Task Run)> Provers { get; } = [];

    /// <summary>The aggregator's replicas when it runs as child processes (<c>--store postgres</c>); empty otherwise.</summary>
    public List<DevnetReplica> Replicas { get; } = [];
}
