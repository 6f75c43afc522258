using ZkPow.Aggregator.Sender;

namespace ZkPow.Aggregator.Tests.Sender;

public sealed class SequenceCacheTests
{
    [Fact]
    public async Task hands_out_the_lowest_sequence_first_and_holds_one_item_per_sequence()
    {
        var cache = new SequenceCache<string>("test");
        Assert.True(cache.Put(30, "a"));
        Assert.True(cache.Put(10, "b"));
        Assert.False(cache.Put(30, "c"));
        Assert.Equal(2, cache.Count);

        Assert.Equal(new KeyValuePair<ulong, string>(10, "b"), await cache.TakeAsync(default));
        Assert.Equal(new KeyValuePair<ulong, string>(30, "c"), await cache.TakeAsync(default));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task a_taker_waits_for_an_item()
    {
        var cache = new SequenceCache<int>("test");
        var take = cache.TakeAsync(default);
        Assert.False(take.IsCompleted);
        cache.Put(5, 1);
        Assert.Equal(5UL, (await take.WaitAsync(TimeSpan.FromSeconds(5))).Key);
    }

    [Fact]
    public async Task concurrent_puts_and_takes_lose_nothing()
    {
        var cache = new SequenceCache<int>("test");
        var taken = new System.Collections.Concurrent.ConcurrentBag<ulong>();
        using var stop = new CancellationTokenSource();
        var takers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    taken.Add((await cache.TakeAsync(stop.Token)).Key);
                }
            }
            catch (OperationCanceledException)
            {
                // Done.
            }
        })).ToArray();
        Parallel.For(1, 1001, i => cache.Put((ulong)i, i));
        while (taken.Count + cache.Count < 1000)
        {
            await Task.Delay(10);
        }

        await Task.Delay(50);
        await stop.CancelAsync();
        await Task.WhenAll(takers);
        Assert.Equal(1000, taken.Count + cache.Count);
        Assert.Equal(taken.Count, taken.Distinct().Count());
    }

    [Fact]
    public async Task a_nudge_between_taking_the_signal_and_waiting_on_it_is_not_lost()
    {
        var cache = new SequenceCache<int>("test");
        var signal = cache.NudgeSignal();
        Assert.False(signal.IsCompleted);
        cache.Nudge(); // While the waiter is busy (a pass of worker 2), before it waits.
        await signal.WaitAsync(TimeSpan.FromSeconds(5));

        var next = cache.NudgeSignal();
        Assert.False(next.IsCompleted);
        cache.Put(1, 1); // An item put is a change, not a nudge.
        Assert.False(next.IsCompleted);
        cache.Nudge();
        await next.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task a_put_between_taking_the_change_signal_and_waiting_on_it_is_not_lost()
    {
        var cache = new SequenceCache<int>("test");
        var signal = cache.ChangeSignal();
        Assert.False(signal.IsCompleted);
        cache.Put(1, 1); // While the waiter is busy (a pass of worker 2), before it waits.
        await signal.WaitAsync(TimeSpan.FromSeconds(5));

        var next = cache.ChangeSignal();
        Assert.False(next.IsCompleted);
        cache.Nudge(); // A nudge is not a change.
        Assert.True(cache.TryRemove(1, out _)); // Nor is a removal.
        Assert.False(next.IsCompleted);
        cache.Put(2, 2);
        await next.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
