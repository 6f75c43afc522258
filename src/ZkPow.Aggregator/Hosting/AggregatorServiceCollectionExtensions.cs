using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.HealthChecks;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Hosting;

/// <summary>The one composition of an aggregator, shared by <c>zkpow run</c>, the devnet and the tests.</summary>
public static class AggregatorServiceCollectionExtensions
{
    /// <summary>
    /// Adds one aggregator: its options (validated at start), the node clients, the metrics, and the hosted services in
    /// start order — the operator endpoint, the start-up checks (which wait out a node that is down), the store, the
    /// transaction manager, the Proof Generator, the Proof Sender with the Proof Manager, the prover endpoint, the rollup
    /// sync, the leader election (replicas on PostgreSQL: it runs the transaction manager, the sender and the sync on the
    /// leader only) — then the marker that declares it running. The host stops them in reverse order.
    /// </summary>
    public static IServiceCollection AddZkPowAggregator(this IServiceCollection services, AggregatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddOptions<AggregatorOptions>().Configure(o => o.CopyFrom(options)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AggregatorOptions>, AggregatorOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        // First, so that its hosted service starts before the parts whose spans it exports and stops (flushing) after them.
        services.AddTraceExport(options.Tracing, options.Replica.EffectiveId);

        services.AddSingleton(sp =>
        {
            var chain = sp.GetRequiredService<IOptions<AggregatorOptions>>().Value.Chain;
            return EthRpcClient.Create(chain, sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton(sp => new RollupChainClient(sp.GetRequiredService<EthRpcClient>(),
            sp.GetRequiredService<IOptions<AggregatorOptions>>().Value.Chain.RollupAddress));
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AggregatorOptions>>().Value;
            return RollupNodeClient.Create(options.Sync, options.Chain, sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton(_ => new GeneratorMetrics());
        services.AddSingleton(_ => new SenderMetrics());
        services.AddSingleton(_ => new SyncMetrics());
        services.AddSingleton<AggregatorReadiness>();
        services.AddSingleton<StartupRetry>();
        services.AddSingleton<PartStopper>();
        services.AddSingleton<DrainCoordinator>();
        AddHealthChecks(services);
        services.AddSingleton(sp => new AggregatorNode(sp.GetRequiredService<IOptions<AggregatorOptions>>(), sp.GetRequiredService<AggregatorReadiness>(),
            sp.GetRequiredService<StartupCheckService>(), sp.GetRequiredService<StoreService>(), sp.GetRequiredService<TxManagerService>(),
            sp.GetRequiredService<GeneratorService>(), sp.GetRequiredService<ProverServerService>(), sp.GetRequiredService<SenderService>(), sp.GetRequiredService<RollupChainClient>(),
            sp.GetRequiredService<RollupNodeClient>(), sp.GetRequiredService<GeneratorMetrics>(), sp.GetRequiredService<SenderMetrics>(),
            sp.GetRequiredService<SyncMetrics>(), sp.GetRequiredService<DrainCoordinator>(), sp.GetRequiredService<AggregatorHealth>())
        {
            Leader = sp.GetRequiredService<LeaderService>(),
        });

        // Start order (the host stops in reverse).
        AddPart<OperatorEndpointService>(services);
        AddPart<StartupCheckService>(services);
        AddPart<StoreService>(services);
        AddPart<TxManagerService>(services);
        AddPart<FundsService>(services);
        AddPart<GeneratorService>(services);
        AddPart<SenderService>(services);
        AddPart<ProverServerService>(services);
        AddPart<SyncService>(services);
        AddPart<LeaderService>(services);
        AddPart<RunningService>(services);
        return services;
    }

    /// <summary>The health checks behind <c>/health/ready</c> and the prover port's gRPC health service (one instance
    /// each: the dependency checks remember since when a node is unreachable).</summary>
    private static void AddHealthChecks(IServiceCollection services)
    {
        services.AddSingleton<StoreHealthCheck>();
        services.AddSingleton<BaseChainHealthCheck>();
        services.AddSingleton<RollupNodeHealthCheck>();
        services.AddSingleton<SyncLagHealthCheck>();
        services.AddSingleton<ProverCountHealthCheck>();
        services.AddSingleton<ParkedWorkHealthCheck>();
        services.AddSingleton<LeaseSweeperHealthCheck>();
        services.AddSingleton<AggregatorHealth>();
        services.AddHealthChecks()
            .AddCheck<StoreHealthCheck>("store")
            .AddCheck<BaseChainHealthCheck>("baseChain")
            .AddCheck<RollupNodeHealthCheck>("rollupNode")
            .AddCheck<SyncLagHealthCheck>("sync")
            .AddCheck<ProverCountHealthCheck>("provers", HealthStatus.Degraded)
            .AddCheck<ParkedWorkHealthCheck>("parked", HealthStatus.Degraded)
            .AddCheck<LeaseSweeperHealthCheck>("leaseSweeper");
        // The checks run when asked (a probe): no publisher, so no publishing service among the parts.
        foreach (var publisher in services.Where(d => d.ServiceType == typeof(Microsoft.Extensions.Hosting.IHostedService) &&
            d.ImplementationType?.Name == "HealthCheckPublisherHostedService").ToList())
        {
            services.Remove(publisher);
        }
    }

    /// <summary>A hosted service that later parts (and the node view) also depend on: one instance for both.</summary>
    private static void AddPart<T>(IServiceCollection services)
        where T : class, Microsoft.Extensions.Hosting.IHostedService
    {
        services.AddSingleton<T>();
        services.AddSingleton<Microsoft.Extensions.Hosting.IHostedService>(sp => sp.GetRequiredService<T>());
    }
}
