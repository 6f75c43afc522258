using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// One aggregator on the .NET Generic Host (<see cref="AggregatorServiceCollectionExtensions.AddZkPowAggregator"/>):
/// started in order, stopped in reverse order within <see cref="AggregatorHostSettings.ShutdownTimeout"/>. Start-up
/// waits for nodes that are down; it fails only on a definite configuration error (<see cref="OptionsException"/>),
/// after stopping what had started.
/// </summary>
public sealed class AggregatorHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly AggregatorOptions _options;
    private readonly Lock _gate = new();
    private Task? _stop;
    private int _disposed;

    private AggregatorHost(IHost host, AggregatorOptions options)
    {
        _host = host;
        _options = options;
    }

    /// <summary>The aggregator's read-only view.</summary>
    public AggregatorNode Node => _host.Services.GetRequiredService<AggregatorNode>();

    public IServiceProvider Services => _host.Services;

    /// <summary>The operator endpoint (open from the start of start-up until the end of shutdown).</summary>
    public Uri StatusAddress => _host.Services.GetRequiredService<OperatorEndpointService>().Endpoint.Address;

    /// <summary>Cancelled when the host begins to stop (a signal with the console lifetime, or <see cref="StopAsync"/>).</summary>
    public CancellationToken Stopping => _host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;

    /// <summary>Composes an aggregator (nothing runs yet). Throws <see cref="OptionsException"/> for invalid options.</summary>
    public static AggregatorHost Create(AggregatorOptions options, ILoggerFactory loggers, TimeProvider time, AggregatorHostSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        settings ??= new AggregatorHostSettings();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ILoggerFactory>(new HostLoggerFactory(loggers));
        builder.Services.AddSingleton(time);
        builder.Services.Configure<HostOptions>(o =>
        {
            o.ShutdownTimeout = settings.ShutdownTimeout;
            o.ServicesStartConcurrently = false;
            o.ServicesStopConcurrently = false;
            o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost;
        });
        if (settings.ConsoleLifetime)
        {
            builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
            builder.Services.AddSingleton<IHostLifetime, ConsoleLifetime>();
        }
        else
        {
            builder.Services.AddSingleton<IHostLifetime, ManualLifetime>();
        }

        builder.Services.AddZkPowAggregator(options);
        return new AggregatorHost(builder.Build(), options);
    }

    /// <summary>Creates and starts an aggregator (no signal handling: the caller stops it by disposing it).</summary>
    public static async Task<AggregatorHost> StartAsync(AggregatorOptions options, ILoggerFactory loggers, TimeProvider time, CancellationToken cancellationToken)
    {
        var host = Create(options, loggers, time);
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            return host;
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Starts every part in order; returns once the aggregator runs. Throws <see cref="OptionsException"/> for a
    /// configuration the network contradicts, <see cref="OperationCanceledException"/> if stopped (or cancelled) while
    /// starting; either way what had started is stopped again first.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _options.Validate();
        try
        {
            await _host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops every part in reverse start order (once; later calls wait for the same stop).</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _stop ??= StopCoreAsync(cancellationToken);
            return _stop;
        }
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        _host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        await _host.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until the host is told to stop (a signal, with the console lifetime), then stops it.</summary>
    public async Task WaitForShutdownAsync(CancellationToken cancellationToken)
    {
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (Stopping.Register(() => stopping.TrySetResult()))
        using (cancellationToken.Register(() => stopping.TrySetResult()))
        {
            await stopping.Task.ConfigureAwait(false);
        }

        await StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        if (_host is IAsyncDisposable asyncHost)
        {
            await asyncHost.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            _host.Dispose();
        }
    }
}
