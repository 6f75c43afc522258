using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Protocol;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary>Everything one miner's aggregator needs, by component.</summary>
internal sealed class MinerAggregatorOptions
{
    public StoreOptions Store { get; set; } = new();
    public ChainOptions Chain { get; set; } = new();
    public TxKeyOptions Key { get; set; } = new();
    public TxManagerOptions TxManager { get; set; } = new();
    public GeneratorOptions Generator { get; set; } = new();
    public ProverServerOptions ProverServer { get; set; } = new();
    public ProverSessionOptions ProverSession { get; set; } = new();
    public SenderOptions Sender { get; set; } = new();

    public void Validate()
    {
        Store.Validate();
        Chain.Validate();
        Key.Validate();
        TxManager.Validate();
        Generator.Validate();
        ProverServer.Validate();
        ProverSession.Validate();
        Sender.Validate();
    }
}
