using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Hosting;

/// <summary>The Proof Generator: loads its tasks from the store; provers reach it through the prover server.</summary>
internal sealed class GeneratorService(IOptions<AggregatorOptions> options, StartupCheckService checks, StoreService store, GeneratorMetrics metrics,
    AggregatorReadiness readiness, PartStopper stopper, ILoggerFactory loggers, TimeProvider time) : IHostedService
{
    private ProofGenerator? _generator;

    public ProofGenerator Generator => _generator ?? throw new InvalidOperationException("the proof generator has not started");

    /// <summary>The generator while it runs, or null.</summary>
    public ProofGenerator? Running => _generator;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        readiness.Starting("loading the proof generator's tasks");
        var generator = new ProofGenerator(store.Store, options.Value.Generator, checks.Key.Address, metrics, loggers.CreateLogger<ProofGenerator>(), time);
        try
        {
            await generator.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await generator.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _generator = generator;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var generator = Interlocked.Exchange(ref _generator, null);
        if (generator is not null)
        {
            await stopper.StopAsync("the proof generator", generator.DisposeAsync).ConfigureAwait(false);
        }
    }
}
