using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ZkPow.Aggregator.Hosting;

/// <summary>The operator's HTTP endpoint: opened first (so <c>/health/ready</c> says what start-up waits for), closed last.</summary>
internal sealed class OperatorEndpointService(IOptions<AggregatorOptions> options, AggregatorNode node, PartStopper stopper, ILoggerFactory loggers,
    TimeProvider time)
    : IHostedService
{
    private OperatorEndpoint? _endpoint;

    public OperatorEndpoint Endpoint => _endpoint ?? throw new InvalidOperationException("the operator endpoint is not open");

    /// <summary>The endpoint while it is open, or null.</summary>
    public OperatorEndpoint? Open => _endpoint;

    public async Task StartAsync(CancellationToken cancellationToken) =>
        _endpoint = await OperatorEndpoint.StartAsync(options.Value.Http, node, loggers, cancellationToken, time).ConfigureAwait(false);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var endpoint = Interlocked.Exchange(ref _endpoint, null);
        if (endpoint is not null)
        {
            await stopper.StopAsync("the operator endpoint", endpoint.DisposeAsync).ConfigureAwait(false);
        }
    }
}
