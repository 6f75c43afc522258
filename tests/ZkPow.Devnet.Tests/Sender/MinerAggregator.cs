using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary>
/// One miner's aggregator, composed and started exactly as <c>zkpow run</c> and the devnet do
/// (<see cref="AggregatorHost"/>, <c>AddZkPowAggregator</c>); the parts a test reads come from its
/// <see cref="AggregatorNode"/>. Disposing stops it in order; a new instance on the same store resumes.
/// </summary>
internal sealed class MinerAggregator : IAsyncDisposable
{
    private MinerAggregator(AggregatorHost host)
    {
        Host = host;
    }

    public AggregatorHost Host { get; }

    public AggregatorNode Node => Host.Node;

    public IAggregatorStore Store => Node.Store;

    public TxManager Tx => Node.Transactions;

    public ProofGenerator Generator => Node.Generator;

    public ProofSender Sender => Node.Sender;

    /// <summary>Where the aggregator's provers dial in.</summary>
    public Uri ProverAddress => Node.ProverAddress;

    /// <summary>The miner's address.</summary>
    public string Miner => Node.MinerAddress;

    public static async Task<MinerAggregator> StartAsync(AggregatorOptions options, ILoggerFactory loggers, TimeProvider time,
        CancellationToken cancellationToken) =>
        new(await AggregatorHost.StartAsync(options, loggers, time, cancellationToken).ConfigureAwait(false));

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}
