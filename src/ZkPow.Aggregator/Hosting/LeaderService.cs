using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Leadership;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// With the store on PostgreSQL, several replicas of one miner may share the database: this part elects one leader
/// (<see cref="LeaderElection"/>) and runs the transaction manager, the Proof Sender with the Proof Manager, the rollup
/// sync and the final-proof listener (<see cref="FinalProofListener"/>) on the leader only, for as long as its term lasts.
/// A replica that gains the lease starts them, resuming from the store as a restart does; a replica that loses it stops
/// them at once. Every replica runs the prover server and the generator. On SQLite (one process) this part does nothing
/// and those parts start with the host as before.
/// </summary>
internal sealed partial class LeaderService(IOptions<AggregatorOptions> options, StartupCheckService checks, StoreService store,
    TxManagerService transactions, SenderService sender, SyncService sync, GeneratorService generator, PartStopper stopper, ILoggerFactory loggers, TimeProvider time,
    ILogger<LeaderService> logger) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private LeaderElection? _election;
    private Task _terms = Task.CompletedTask;

    /// <summary>True if the leader's parts wait for the lease (the store is PostgreSQL) instead of starting with the host.</summary>
    public static bool IsGated(AggregatorOptions options) => options.Store.IsPostgres;

    /// <summary>The election (null on SQLite, and before start).</summary>
    public LeaderElection? Election => _election;

    /// <summary>True if this replica runs the leader's parts now (always on SQLite).</summary>
    public bool IsLeader => _election?.IsLeader ?? !IsGated(options.Value);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!IsGated(options.Value) || store.Store is not PostgresStore postgres)
        {
            return Task.CompletedTask;
        }

        var o = options.Value;
        var election = new LeaderElection(postgres, checks.Key.Address, o.Replica.EffectiveId, o.Leader, loggers.CreateLogger<LeaderElection>(), time);
        postgres.UseFence(election);
        election.Provers = () => generator.Running?.ConnectedProvers().Select(p => p.Name).ToList() ?? [];
        _election = election;
        LogReplica(election.Holder, election.Miner, o.Leader.RenewInterval.TotalSeconds, o.Leader.LeaseTime.TotalSeconds);
        election.Start();
        _terms = Task.Run(() => RunTermsAsync(election, postgres, _stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task RunTermsAsync(LeaderElection election, PostgresStore postgres, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            LeaderTerm term;
            try
            {
                term = await election.WaitForTermAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await RunTermAsync(election, postgres, term).ConfigureAwait(false);
        }
    }

    /// <summary>Starts the leader's parts, waits for the term to end, stops them (in reverse order).</summary>
    private async Task RunTermAsync(LeaderElection election, PostgresStore postgres, LeaderTerm term)
    {
        LogTermBegins(election.Holder, term.Token);
        Task syncRun = Task.CompletedTask;
        Task listen = Task.CompletedTask;
        try
        {
            await transactions.StartLeaderAsync(term.Ended).ConfigureAwait(false);
            transactions.Manager.Fenced += e => election.StepDown($"a write was fenced ({e.Message})");
            await sender.StartLeaderAsync(term.Ended).ConfigureAwait(false);
            syncRun = Task.Run(() => sync.RunLeaderAsync(term.Ended), CancellationToken.None);
            var manager = sender.Manager;
            if (manager is not null)
            {
                var listener = new FinalProofListener(postgres, election.Miner, manager.OnFinalProofNotified, loggers.CreateLogger<FinalProofListener>(), time);
                listen = Task.Run(() => listener.RunAsync(term.Ended), CancellationToken.None);
            }

            await Task.Delay(Timeout.InfiniteTimeSpan, time, term.Ended).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (term.Ended.IsCancellationRequested)
        {
            // The term ended (stepped down, or stopping).
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogTermFailed(election.Holder, e.GetType().Name, e.Message);
            election.StepDown($"starting the leader's parts failed ({e.GetType().Name})");
        }

        await stopper.StopAsync("the final-proof listener", async () => await listen.ConfigureAwait(false)).ConfigureAwait(false);
        await stopper.StopAsync("the rollup sync", async () => await syncRun.ConfigureAwait(false)).ConfigureAwait(false);
        await sender.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await transactions.StopAsync(CancellationToken.None).ConfigureAwait(false);
        LogTermEnded(election.Holder, term.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var election = Interlocked.Exchange(ref _election, null);
        if (election is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        // Ends the term (the parts stop) and releases the lease: a standby takes over at its next attempt.
        await stopper.StopAsync("the leader election", election.DisposeAsync).ConfigureAwait(false);
        await stopper.StopAsync("the leader's parts", async () => await _terms.ConfigureAwait(false)).ConfigureAwait(false);
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} of miner {Miner}: the transaction manager, the sender and the sync run on the leader only (lease renewed every {RenewSeconds:0.##} s for {LeaseSeconds:0.##} s)")]
    private partial void LogReplica(string replica, string miner, double renewSeconds, double leaseSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} leads (token {Token}): starting the transaction manager, the sender and the sync")]
    private partial void LogTermBegins(string replica, long token);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} stepped down (token {Token}): the transaction manager, the sender and the sync are stopped; standing by")]
    private partial void LogTermEnded(string replica, long token);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica}: the leader's parts failed ({Error}: {Reason}); stepping down")]
    private partial void LogTermFailed(string replica, string error, string reason);
}
