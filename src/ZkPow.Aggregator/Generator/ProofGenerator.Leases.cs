using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Aggregator.Generator;

/// <summary>The runtime lease sweeper: assigned tasks whose lease expired and that no job of this process runs (an
/// outcome that could not be stored, a prover lost between pick and request, a worker that failed) go back to the
/// pool, or, when their job's prover instance is connected, back to that prover to be polled again. Store errors are
/// retried with a backoff; the sweeper never ends before the generator does.</summary>
public sealed partial class ProofGenerator
{
    private const int SweepBatch = 500;

    /// <summary>Tasks whose job or outcome is in the hands of this process (from the claim until the outcome is stored).</summary>
    private readonly HashSet<long> _busy = [];
    private Task _leaseSweeper = Task.CompletedTask;
    private volatile string? _leaseSweepError;
    private volatile string? _heldSweepError;

    /// <summary>Null while the lease sweepers work, else the text of their last error (they retry with a backoff).</summary>
    public string? LeaseSweepError => _leaseSweepError ?? _heldSweepError;

    private void MarkBusy(long taskId)
    {
        lock (_gate)
        {
            _busy.Add(taskId);
        }
    }

    private void Unbusy(long taskId)
    {
        lock (_gate)
        {
            _busy.Remove(taskId);
        }
    }

    private async Task SweepLeasesAsync(CancellationToken cancellationToken)
    {
        var interval = _options.LeaseSweepInterval;
        var firstRetry = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(50).Ticks, interval.Ticks / 8));
        var wait = interval;
        try
        {
            while (true)
            {
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                try
                {
                    await SweepLeasesOnceAsync(cancellationToken).ConfigureAwait(false);
                    if (_leaseSweepError is not null)
                    {
                        LogLeaseSweepRecovered();
                    }

                    _leaseSweepError = null;
                    wait = interval;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    _leaseSweepError = $"lease sweep failed: {ex.Message}";
                    wait = wait >= interval ? firstRetry : TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, interval.Ticks));
                    LogLeaseSweepFailed(ex, Durations.Format(wait));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task SweepLeasesOnceAsync(CancellationToken cancellationToken)
    {
        if (!Volatile.Read(ref _listening))
        {
            // Until the prover port opens, no prover could have come back for a job held over a restart.
            return;
        }

        var expired = await _store.ListExpiredLeasesAsync(_time.GetUtcNow(), SweepBatch, cancellationToken).ConfigureAwait(false);
        foreach (var task in expired)
        {
            if (task.Prover is not { } prover)
            {
                continue;
            }

            ProverSession? owner;
            lock (_gate)
            {
                if (_busy.Contains(task.Id) || _held.ContainsKey(task.Id) || _running.ContainsKey(task.Id))
                {
                    continue;
                }

                // Its prover instance is here and may well have the proof (its outcome could not be stored, or its
                // worker failed): poll that job again rather than ask another prover. A final proof is never requested
                // twice while its prover is there: without a recorded job id, its job is recognised from the prover's
                // status. A batch or aggregation without one is simply redone.
                owner = task.JobId is not null || task.Kind == TaskKind.Final
                    ? _workers.Keys.FirstOrDefault(s => s.Ref == prover && !s.IsClosed)
                    : null;
            }

            if (owner is not null)
            {
                if (task.JobId is { } jobId &&
                    !await _store.RecordJobAsync(task.Id, prover, jobId, _time.GetUtcNow() + _options.Lease, cancellationToken).ConfigureAwait(false))
                {
                    continue; // No longer assigned to that prover: nothing of ours to sweep.
                }

                LogLeaseReadopted(task.ToString(), prover.ToString());
                Hold(task, prover, _time.GetUtcNow() + _options.ReconnectGrace + _options.Lease, "lease expired while its prover is connected");
                continue;
            }

            LogLeaseExpired(task.ToString(), prover.ToString());
            await ReleaseAndRequeueAsync(task, prover, ReleaseReason.Lost,
                $"lease expired with no job of this aggregator running it (prover {prover})").ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The lease sweep failed; retrying in {Wait}")]
    private partial void LogLeaseSweepFailed(Exception error, string wait);

    [LoggerMessage(Level = LogLevel.Information, Message = "The lease sweep works again")]
    private partial void LogLeaseSweepRecovered();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {Task}: its lease expired and nothing runs it; given back (prover {Prover})")]
    private partial void LogLeaseExpired(string task, string prover);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {Task}: its lease expired while prover {Prover} is connected; polling its job again")]
    private partial void LogLeaseReadopted(string task, string prover);
}
