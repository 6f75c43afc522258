using Microsoft.Extensions.Hosting;

namespace ZkPow.Aggregator.Hosting;

/// <summary>A host lifetime that listens to no signal: whoever created the host stops it.</summary>
internal sealed class ManualLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
