using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.HealthChecks;

namespace ZkPow.Aggregator.Hosting;

/// <summary>The prover gRPC endpoint: opened once the generator and the sender run, closed first at shutdown.</summary>
internal sealed class ProverServerService(IOptions<AggregatorOptions> options, GeneratorService generator, AggregatorReadiness readiness,
    AggregatorHealth health, PartStopper stopper, ILoggerFactory loggers, TimeProvider time) : IHostedService
{
    private ProverServer? _server;

    public ProverServer Server => _server ?? throw new InvalidOperationException("the prover endpoint is not open");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        readiness.Starting("opening the prover endpoint");
        _server = await ProverServer.StartAsync(options.Value.ProverServer, options.Value.Provers, generator.Generator, loggers, time,
            async ct => (await health.CheckAsync(ct).ConfigureAwait(false)).Ready, cancellationToken).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var server = Interlocked.Exchange(ref _server, null);
        if (server is not null)
        {
            await stopper.StopAsync("the prover endpoint", server.DisposeAsync).ConfigureAwait(false);
        }
    }
}
