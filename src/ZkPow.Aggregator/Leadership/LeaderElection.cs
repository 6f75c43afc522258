using System.Data.Common;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Leadership;

/// <summary>
/// Elects one leader among the replicas of one miner sharing a PostgreSQL database, with a lease in the database
/// (<see cref="PostgresStore.AcquireLeaseAsync"/>): every <see cref="LeaderOptions.RenewInterval"/> the leader renews its
/// lease and a standby tries to take it. The leader is pessimistic: it steps down at once, by its own monotonic clock,
/// when <see cref="LeaderOptions.LeaseTime"/> (less a tenth for clock drift) has passed since it <i>sent</i> its last
/// successful renewal, so before the database lets another replica take over; a renewal refused or failing past that
/// point, a pause of the process (SIGSTOP) or a fenced write (<see cref="StepDown"/>) end the term the same way.
/// <para>With <see cref="LeaderOptions.SessionLock"/>, the leader also holds the miner's session lock
/// (<see cref="LeaderSessionLock"/>) on a connection of its own for its whole term, and a standby tries to get it every
/// <see cref="LeaderOptions.SessionPollInterval"/>: a standby that gets it while the lease row says its holder held it
/// takes the lease at once (a new token), without waiting for the expiry, because the leader's session has ended. A
/// replica releases the lock whenever it does not lead. The lease and its fencing stay as they are: a leader that lost
/// its session but is alive is refused at its next renewal and by every fenced write.</para>
/// Implements <see cref="IFence"/>: the store's fenced writes run only under the current term's token.
/// </summary>
public sealed partial class LeaderElection : IFence, IAsyncDisposable
{
    private readonly PostgresStore _store;
    private readonly LeaderOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly DateTimeOffset _startedAt;
    private readonly ITimer _watchdog;
    private readonly LeaderSessionLock? _session;
    private TaskCompletionSource<LeaderTerm> _nextTerm = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _term;
    private long _token = -1;
    private long _deadline;
    private Task _loop = Task.CompletedTask;
    private int _disposed;

    public LeaderElection(PostgresStore store, string miner, string replicaId, LeaderOptions options, ILogger<LeaderElection> logger, TimeProvider time)
    {
        options.Validate();
        _store = store;
        Miner = miner.ToLowerInvariant();
        Holder = replicaId;
        _options = options;
        _logger = logger;
        _time = time;
        _startedAt = time.GetUtcNow();
        _watchdog = time.CreateTimer(_ => CheckDeadline(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _session = options.SessionLock ? store.CreateSessionLock(Miner) : null;
    }

    public string Miner { get; }

    public string Holder { get; }

    /// <summary>The names of the provers connected to this replica, recorded with each heartbeat for <c>zkpow status</c>.</summary>
    public Func<IReadOnlyList<string>>? Provers { get; set; }

    /// <summary>The current term's fencing token, or null while this replica does not lead.</summary>
    public long? Token
    {
        get
        {
            lock (_gate)
            {
                return _term is null ? null : _token;
            }
        }
    }

    public bool IsLeader => Token is not null;

    /// <summary>The holder the last attempt found in the row (this replica or another), or null before the first.</summary>
    public string? LastSeenHolder { get; private set; }

    /// <summary>Why this replica took the lease at its last election ("the leader's session ended …", "the lease …"), or null.</summary>
    public string? ElectedReason { get; private set; }

    /// <summary>The server process id of this replica's session lock connection, or null while none is open (for tests).</summary>
    public int? SessionBackendPid => _session?.BackendPid;

    /// <summary>True while this replica holds the miner's session lock (as far as it knows).</summary>
    public bool HoldsSessionLock => _session?.Held ?? false;

    /// <summary>Session lock polls made so far by this replica as a standby (for tests).</summary>
    public int SessionPolls => Volatile.Read(ref _sessionPolls);

    private int _sessionPolls;

    /// <summary>Attempts made so far (successful or not), for tests that wait for a standby to have looked.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    private int _attempts;

    /// <summary>Raised with the new token when this replica becomes leader.</summary>
    public event Action<long>? Elected;

    /// <summary>Raised with the reason when this replica stops being leader.</summary>
    public event Action<string>? SteppedDown;

    /// <summary>Starts renewing or trying to take the lease.</summary>
    public void Start() => _loop = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);

    /// <summary>The current term if this replica leads, else the next one (waits).</summary>
    public Task<LeaderTerm> WaitForTermAsync(CancellationToken cancellationToken)
    {
        Task<LeaderTerm> next;
        lock (_gate)
        {
            if (_term is not null)
            {
                return Task.FromResult(new LeaderTerm(_token, _term.Token));
            }

            next = _nextTerm.Task;
        }

        return next.WaitAsync(cancellationToken);
    }

    /// <summary>Ends the current term now (a write was fenced, or a part failed); the loop keeps trying to lead.</summary>
    public void StepDown(string reason)
    {
        CancellationTokenSource? ended;
        long token;
        lock (_gate)
        {
            ended = _term;
            token = _token;
            _term = null;
            _watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        if (ended is null)
        {
            return;
        }

        LogSteppedDown(Holder, Miner, token, reason);
        ended.Cancel();
        ended.Dispose();
        SteppedDown?.Invoke(reason);
    }

    /// <summary>
    /// An attempt every <see cref="LeaderOptions.RenewInterval"/>; in between, every
    /// <see cref="LeaderOptions.SessionPollInterval"/>, a replica that does not lead releases the session lock if it
    /// holds it (it stepped down) or tries to get it, and makes an attempt at once when it gets it.
    /// </summary>
    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        var poll = _options.SessionPollInterval < _options.RenewInterval ? _options.SessionPollInterval : _options.RenewInterval;
        var next = _time.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            if (_time.GetTimestamp() >= next || await PollSessionAsync(cancellationToken).ConfigureAwait(false))
            {
                await AttemptAsync(cancellationToken).ConfigureAwait(false);
                next = _time.GetTimestamp() + (long)(_options.RenewInterval.TotalSeconds * _time.TimestampFrequency);
            }

            var wait = _session is null ? _options.RenewInterval : _time.GetElapsedTime(_time.GetTimestamp(), next);
            try
            {
                await Task.Delay(wait > poll ? poll : wait < TimeSpan.Zero ? TimeSpan.Zero : wait, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Between attempts, while this replica does not lead: releases the session lock if it still holds it, else
    /// tries to get it; true if it got it (the leader's session may have ended: attempt now).</summary>
    private async Task<bool> PollSessionAsync(CancellationToken cancellationToken)
    {
        if (_session is null || IsLeader)
        {
            return false;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.LeaseTime);
            if (_session.Held)
            {
                await _session.UnlockAsync(timeout.Token).ConfigureAwait(false);
                return false;
            }

            Interlocked.Increment(ref _sessionPolls);
            return await _session.TryLockAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or OperationCanceledException or TimeoutException or IOException)
        {
            // The attempts report a database that does not answer.
            return false;
        }
    }

    /// <summary>One acquire or renew; its outcome starts, extends or ends the term.</summary>
    private async Task AttemptAsync(CancellationToken cancellationToken)
    {
        long? ours;
        lock (_gate)
        {
            ours = _term is null ? null : _token;
        }

        var seen = LastSeenHolder;
        var sentAt = _time.GetTimestamp();
        LeaderLeaseRow row;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.LeaseTime);
            await TryLockAsync(timeout.Token).ConfigureAwait(false);
            row = await _store.AcquireLeaseAsync(Miner, Holder, ours, _options.LeaseTime, timeout.Token, _session).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or OperationCanceledException or TimeoutException or IOException)
        {
            Interlocked.Increment(ref _attempts);
            // The watchdog ends the term when the lease runs out; until then the last renewal still holds.
            LogAttemptFailed(Holder, Miner, e.Message);
            return;
        }

        Interlocked.Increment(ref _attempts);
        LastSeenHolder = row.Holder;
        if (!row.Held)
        {
            if (ours is not null)
            {
                StepDown($"replica '{row.Holder}' holds the lease (token {row.Token})");
            }

            // The lock is for the leader (a standby holding it would keep the leader from taking it).
            await UnlockAsync(cancellationToken).ConfigureAwait(false);
            await HeartbeatAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        if (ours is not null && ours != row.Token)
        {
            // Our lease expired in the database and we took it again: a new term under a new token.
            StepDown($"the lease expired before renewal (token {ours} → {row.Token})");
        }

        // Pessimistic: measured from the moment the renewal was sent, less a tenth for the two clocks' drift.
        var deadline = sentAt + (long)(_options.LeaseTime.TotalSeconds * 0.9 * _time.TimestampFrequency);
        LeaderTerm? begun = null;
        TaskCompletionSource<LeaderTerm>? waiting = null;
        lock (_gate)
        {
            _deadline = deadline;
            if (_term is null)
            {
                _token = row.Token;
                _term = new CancellationTokenSource();
                begun = new LeaderTerm(row.Token, _term.Token);
                waiting = _nextTerm;
                _nextTerm = new TaskCompletionSource<LeaderTerm>(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            var left = _time.GetElapsedTime(_time.GetTimestamp(), deadline);
            _watchdog.Change(left < TimeSpan.Zero ? TimeSpan.Zero : left, Timeout.InfiniteTimeSpan);
        }

        if (begun is not null)
        {
            ElectedReason = row.Forced
                ? $"the leader's session ended (replica '{seen}' held the session lock and its lease had not expired)"
                : "the lease had expired or was free";
            LogElected(Holder, Miner, begun.Token, ElectedReason);
            waiting!.TrySetResult(begun);
            Elected?.Invoke(begun.Token);
        }

        await HeartbeatAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Tries to get the session lock if this replica does not hold it; a failure only means no lock for this attempt.</summary>
    private async Task TryLockAsync(CancellationToken cancellationToken)
    {
        if (_session is null || _session.Held)
        {
            return;
        }

        try
        {
            await _session.TryLockAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException or IOException)
        {
            LogSessionLockFailed(Holder, Miner, e.Message);
        }
    }

    private async Task UnlockAsync(CancellationToken cancellationToken)
    {
        if (_session is { Held: true })
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.LeaseTime);
            await _session.UnlockAsync(timeout.Token).ConfigureAwait(false);
        }
    }

    private async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        try
        {
            var token = Token;
            await _store.HeartbeatAsync(Miner, Holder, token is null ? "standby" : "leader", token, _startedAt, cancellationToken, Provers?.Invoke())
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or OperationCanceledException or TimeoutException or IOException)
        {
            // The replica list is informative only.
        }
    }

    private void CheckDeadline()
    {
        bool expired;
        lock (_gate)
        {
            expired = _term is not null && _time.GetTimestamp() >= _deadline;
            if (_term is not null && !expired)
            {
                _watchdog.Change(_time.GetElapsedTime(_time.GetTimestamp(), _deadline), Timeout.InfiniteTimeSpan);
            }
        }

        if (expired)
        {
            StepDown("the lease was not renewed in time");
        }
    }

    /// <summary>Stops trying to lead as if the process had died: no further renewal, no release; the term still ends by
    /// the local clock when the lease runs out. The session lock's connection stays open (as a paused process's would):
    /// close it with <see cref="CloseSessionAsync"/> to stand for a process that died.</summary>
    internal async Task AbandonAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    /// <summary>Closes the session lock's connection (after <see cref="AbandonAsync"/>: the process died).</summary>
    internal async Task CloseSessionAsync()
    {
        if (_session is not null)
        {
            await _session.CloseAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops: ends the term, releases the lease so that a standby takes over at its next attempt, and closes the
    /// session lock's connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        long token;
        lock (_gate)
        {
            token = _term is null ? -1 : _token;
        }

        StepDown("stopping");
        if (token >= 0)
        {
            try
            {
                using var timeout = new CancellationTokenSource(_options.LeaseTime);
                await _store.ReleaseLeaseAsync(Miner, Holder, token, timeout.Token).ConfigureAwait(false);
                await _store.HeartbeatAsync(Miner, Holder, "stopped", null, _startedAt, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is DbException or InvalidOperationException or OperationCanceledException or TimeoutException or IOException)
            {
                LogAttemptFailed(Holder, Miner, e.Message);
            }
        }

        if (_session is not null)
        {
            await _session.DisposeAsync().ConfigureAwait(false);
        }

        await _watchdog.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} leads miner {Miner} (fencing token {Token}): {Reason}")]
    private partial void LogElected(string replica, string miner, long token, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {Replica}: the session lock of miner {Miner} could not be taken: {Error}")]
    private partial void LogSessionLockFailed(string replica, string miner, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} stepping down as leader of miner {Miner} (token {Token}): {Reason}")]
    private partial void LogSteppedDown(string replica, string miner, long token, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica}: the leader lease of miner {Miner} could not be taken or renewed: {Error}")]
    private partial void LogAttemptFailed(string replica, string miner, string error);
}
