using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.HealthChecks;
using ZkPow.Aggregator.Leadership;
using ZkPow.Aggregator.Protocol;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Storage;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// The whole configuration of one aggregator, one section per component. The same model is filled from the JSON
/// file, <c>ZKPOW_</c> environment variables (<c>ZKPOW_Provers__Port=50082</c>) and command-line overrides
/// (<c>--Provers:Port=50082</c>); see docs/configuration.md.
/// </summary>
public sealed class AggregatorOptions
{
    public StoreOptions Store { get; set; } = new();

    /// <summary>Where provers dial in (section <c>Provers</c>).</summary>
    public ProverServerOptions ProverServer { get; set; } = new();

    /// <summary>How prover streams are handled (also section <c>Provers</c>).</summary>
    public ProverSessionOptions Provers { get; set; } = new();

    public GeneratorOptions Generator { get; set; } = new();

    public ChainOptions Chain { get; set; } = new();

    /// <summary>The base chain's <c>eth_chainId</c>; the aggregator refuses to start against another chain.</summary>
    public ulong? ExpectedChainId { get; set; }

    public TxKeyOptions Key { get; set; } = new();

    public TxManagerOptions TxManager { get; set; } = new();

    public HttpOptions Http { get; set; } = new();

    public SyncOptions Sync { get; set; } = new();

    public SenderOptions Sender { get; set; } = new();

    /// <summary>When <c>/health/ready</c> fails (section <c>Health</c>).</summary>
    public HealthOptions Health { get; set; } = new();

    /// <summary>The leader lease of replicas sharing a PostgreSQL database (section <c>Leader</c>).</summary>
    public LeaderOptions Leader { get; set; } = new();

    /// <summary>This replica's id (section <c>Replica</c>).</summary>
    public ReplicaOptions Replica { get; set; } = new();

    /// <summary>Where trace spans go (section <c>Tracing</c>; off by default).</summary>
    public TracingOptions Tracing { get; set; } = new();

    /// <summary>Takes every section of <paramref name="source"/> (the options pipeline fills its own instance).</summary>
    public void CopyFrom(AggregatorOptions source)
    {
        ArgumentNullException.ThrowIfNull(source);
        Store = source.Store;
        ProverServer = source.ProverServer;
        Provers = source.Provers;
        Generator = source.Generator;
        Chain = source.Chain;
        ExpectedChainId = source.ExpectedChainId;
        Key = source.Key;
        TxManager = source.TxManager;
        Http = source.Http;
        Sync = source.Sync;
        Sender = source.Sender;
        Health = source.Health;
        Leader = source.Leader;
        Replica = source.Replica;
        Tracing = source.Tracing;
    }

    public void Validate()
    {
        Store.Validate();
        ProverServer.Validate();
        Provers.Validate();
        Generator.Validate();
        Chain.Validate();
        Key.Validate();
        TxManager.Validate();
        Http.Validate();
        Sync.Validate();
        Sender.Validate();
        Health.Validate();
        Leader.Validate();
        Replica.Validate();
        Tracing.Validate();
    }
}
