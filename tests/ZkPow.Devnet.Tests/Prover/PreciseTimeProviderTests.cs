using System.Diagnostics;
using ZkPow.Devnet.Prover;

namespace ZkPow.Devnet.Tests.Prover;

public sealed class PreciseTimeProviderTests
{
    [Fact]
    public async Task a_delay_ends_and_never_before_its_due_time()
    {
        using var time = new PreciseTimeProvider();
        foreach (var ms in new[] { 0.3, 2.5, 20 })
        {
            var started = Stopwatch.GetTimestamp();
            await time.DelayAsync(TimeSpan.FromMilliseconds(ms), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));
            Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(ms), $"a {ms} ms delay ended early");
        }
    }

    [Fact]
    public async Task timers_fire_in_due_order_a_changed_one_at_its_new_time_and_a_disposed_one_never()
    {
        using var time = new PreciseTimeProvider();
        var fired = new List<string>();
        var last = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Fire(object? name)
        {
            lock (fired)
            {
                fired.Add((string)name!);
            }

            if ((string)name! == "c")
            {
                last.TrySetResult();
            }
        }

        using var c = time.CreateTimer(Fire, "c", TimeSpan.FromMilliseconds(300), Timeout.InfiniteTimeSpan);
        using var a = time.CreateTimer(Fire, "a", TimeSpan.FromMilliseconds(10), Timeout.InfiniteTimeSpan);
        using var b = time.CreateTimer(Fire, "b", TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);
        using var gone = time.CreateTimer(Fire, "gone", TimeSpan.FromMilliseconds(200), Timeout.InfiniteTimeSpan);
        b.Change(TimeSpan.FromMilliseconds(100), Timeout.InfiniteTimeSpan);
        gone.Dispose();

        await last.Task.WaitAsync(TimeSpan.FromSeconds(20));
        lock (fired)
        {
            Assert.Equal(["a", "b", "c"], fired);
        }
    }

    [Fact]
    public async Task a_periodic_timer_fires_again_until_it_is_stopped()
    {
        using var time = new PreciseTimeProvider();
        var count = 0;
        var three = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var timer = time.CreateTimer(_ =>
        {
            if (Interlocked.Increment(ref count) == 3)
            {
                three.TrySetResult();
            }
        }, null, TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(2));
        await three.Task.WaitAsync(TimeSpan.FromSeconds(20));
        timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        var stopped = Volatile.Read(ref count);
        await Task.Delay(50);
        Assert.InRange(Volatile.Read(ref count), stopped, stopped + 1); // at most one firing already on its way
    }
}
