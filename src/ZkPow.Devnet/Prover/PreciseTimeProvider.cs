using System.Diagnostics;

namespace ZkPow.Devnet.Prover;

/// <summary>
/// A <see cref="TimeProvider"/> whose timers fire within tens of microseconds of their due time; the system's fire up to
/// a millisecond or two late (whole-millisecond waits on a shared timer thread). The bench's mock provers use it for
/// the GetProof answers they hold until a job ends, so that the answer leaves when the job's drawn latency says: the
/// poll lag measured against that end is then the aggregator's, not the mock's timers'. One thread waits for the next
/// due time, waiting on an event until about a millisecond and a half before it and sleeping in slices of at most
/// 250 µs after that; callbacks run on the thread pool. Clocks are the system's. Dispose to stop the thread (pending timers then never fire).
/// </summary>
public sealed class PreciseTimeProvider : TimeProvider, IDisposable
{
    private static readonly long SleepMargin = Stopwatch.Frequency * 3 / 2000; // 1.5 ms

    private readonly Lock _lock = new();
    private readonly PriorityQueue<(PreciseTimer Timer, long Version), long> _due = new();
    private readonly AutoResetEvent _wake = new(false);
    private readonly Thread _thread;
    private volatile bool _disposed;

    public PreciseTimeProvider()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "precise-timers" };
        _thread.Start();
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new PreciseTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>A delay on these timers (<see cref="Task.Delay(TimeSpan, TimeProvider)"/> ends at once for a delay under a
    /// millisecond).</summary>
    public async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero)
        {
            return;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var timer = CreateTimer(static s => ((TaskCompletionSource)s!).TrySetResult(), done, delay, Timeout.InfiniteTimeSpan);
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _wake.Set();
        _thread.Join();
        _wake.Dispose();
    }

    /// <summary>Queues a timer's next firing; an entry whose version is no longer the timer's is dropped unfired.</summary>
    internal void Schedule(PreciseTimer timer, long version, long dueAt)
    {
        lock (_lock)
        {
            _due.Enqueue((timer, version), dueAt);
        }

        if (!_disposed)
        {
            _wake.Set();
        }
    }

    private void Run()
    {
        while (!_disposed)
        {
            var next = long.MaxValue;
            var now = Stopwatch.GetTimestamp();
            lock (_lock)
            {
                while (_due.TryPeek(out var entry, out var at))
                {
                    if (!entry.Timer.IsCurrent(entry.Version))
                    {
                        _due.Dequeue();
                        continue;
                    }

                    if (at > now)
                    {
                        next = at;
                        break;
                    }

                    _due.Dequeue();
                    ThreadPool.UnsafeQueueUserWorkItem(static e => e.Timer.Fire(e.Version), entry, preferLocal: false);
                }
            }

            if (next == long.MaxValue)
            {
                _wake.WaitOne();
            }
            else if (next - now > SleepMargin)
            {
                _wake.WaitOne(TimeSpan.FromTicks(Stopwatch.GetElapsedTime(now, next - SleepMargin).Ticks + TimeSpan.TicksPerMillisecond / 2));
            }
            else
            {
                // The last stretch in short sleeps (a wait on the event is no finer than a millisecond): the thread
                // neither spins on a core the program under test needs nor oversleeps the due time by much.
                var left = Stopwatch.GetElapsedTime(now, next);
                NativeSleep.Microseconds((uint)Math.Clamp(left.TotalMicroseconds - 60, 20, 250));
            }
        }
    }

    /// <summary>One timer; every <see cref="Change"/> or <see cref="Dispose"/> bumps its version, which retires the
    /// entries queued before.</summary>
    internal sealed class PreciseTimer(PreciseTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private readonly Lock _lock = new();
        private long _version;
        private TimeSpan _period = Timeout.InfiniteTimeSpan;
        private bool _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            long version;
            lock (_lock)
            {
                if (_disposed)
                {
                    return false;
                }

                version = ++_version;
                _period = period;
            }

            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                owner.Schedule(this, version, Stopwatch.GetTimestamp() + (long)(Math.Max(0, dueTime.Ticks) * (double)Stopwatch.Frequency / TimeSpan.TicksPerSecond));
            }

            return true;
        }

        public bool IsCurrent(long version)
        {
            lock (_lock)
            {
                return !_disposed && version == _version;
            }
        }

        public void Fire(long version)
        {
            TimeSpan period;
            lock (_lock)
            {
                if (_disposed || version != _version)
                {
                    return;
                }

                period = _period;
            }

            if (period != Timeout.InfiniteTimeSpan && period > TimeSpan.Zero)
            {
                Change(period, period);
            }

            callback(state);
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _disposed = true;
                _version++;
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
