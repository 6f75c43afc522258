using Microsoft.Extensions.Logging;

namespace ZkPow.Aggregator.Storage;

/// <summary>
/// The background retention pass: every <see cref="StoreOptions.RetentionInterval"/> it deletes what verified sequences no
/// longer need (<see cref="IAggregatorStore.PruneAsync"/>), <see cref="StoreOptions.RetentionBatch"/> sequences per
/// transaction with a pause between two, so that the dispatch path's writes queue behind one small transaction at
/// most. A failing step is logged and retried at the next pass.
/// </summary>
internal sealed partial class StoreRetention : IAsyncDisposable
{
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(50);
    private readonly IAggregatorStore _store;
    private readonly StoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<StoreRetention> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public StoreRetention(IAggregatorStore store, StoreOptions options, TimeProvider time, ILogger<StoreRetention> logger)
    {
        options.Validate();
        _store = store;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Retention passes completed so far.</summary>
    public long Passes => Interlocked.Read(ref _passes);

    private long _passes;

    /// <summary>Starts the background pass (nothing when <see cref="StoreOptions.RetentionInterval"/> is 0).</summary>
    public void Start()
    {
        if (_options.RetentionInterval > TimeSpan.Zero)
        {
            _loop = RunAsync(_stopping.Token);
        }
    }

    /// <summary>Runs retention steps until nothing is left to delete; returns the totals.</summary>
    public async Task<RetentionResult> RunPassAsync(CancellationToken cancellationToken)
    {
        var total = RetentionResult.None;
        while (true)
        {
            var step = await _store.PruneAsync(_options.RetainVerified, _options.RetainFinalProofs, _options.RetentionBatch, cancellationToken)
                .ConfigureAwait(false);
            if (step.IsEmpty)
            {
                break;
            }

            total = total.Plus(step);
            await Task.Delay(Pause, _time, cancellationToken).ConfigureAwait(false);
        }

        Interlocked.Increment(ref _passes);
        if (!total.IsEmpty)
        {
            LogPruned(total.Sequences, total.Tasks, total.Batches, total.FinalProofs, total.CommittedProofs, total.Transactions, total.Events,
                total.EventSequences);
        }

        return total;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await RunPassAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or ObjectDisposedException)
                {
                    LogFailed(ex.Message);
                }

                await Task.Delay(_options.RetentionInterval, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Retention deleted the recursive proofs and batch inputs of {Sequences} verified sequences ({Tasks} task rows, {Batches} batch inputs), {Finals} final proofs, {Committed} committed proofs, {Transactions} finished transactions and {Events} rollup events of other miners ({EventSequences} sequences)")]
    private partial void LogPruned(int sequences, int tasks, int batches, int finals, int committed, int transactions, int events,
        int eventSequences);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A retention pass failed (retried at the next pass): {Error}")]
    private partial void LogFailed(string error);
}
