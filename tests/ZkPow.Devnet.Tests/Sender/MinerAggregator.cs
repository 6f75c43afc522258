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

    /// <summary>Starts the aggregator. On a PostgreSQL store the leader's parts (generator, tx manager, sender) start once this
    /// replica holds the leader lease: this returns once they run.</summary>
    public static async Task<MinerAggregator> StartAsync(AggregatorOptions options, ILoggerFactory loggers, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var aggregator = new MinerAggregator(await AggregatorHost.StartAsync(options, loggers, time, cancellationToken).ConfigureAwait(false));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (aggregator.Node.Leader is { IsLeader: false } || !aggregator.SenderStarted)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                await aggregator.DisposeAsync().ConfigureAwait(false);
                throw new TimeoutException("the aggregator did not take the leader lease within 30 s");
            }

            await Task.Delay(25, cancellationToken).ConfigureAwait(false);
        }

        return aggregator;
    }

    private bool SenderStarted
    {
        get
        {
            try
            {
                return Node.Sender is not null;
            }
            catch (InvalidOperationException)
            {
                return false; // Not the leader yet.
            }
        }
    }

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}
