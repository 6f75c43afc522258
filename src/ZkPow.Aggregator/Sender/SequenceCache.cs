namespace ZkPow.Aggregator.Sender;

/// <summary>
/// A thread-safe cache of work items keyed by sequence (its final batch), always handing out the lowest sequence
/// first and holding at most one item per sequence: adding a sequence that is already held replaces its item.
/// </summary>
public sealed class SequenceCache<T>
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<ulong, T> _items = [];
    private TaskCompletionSource _changed = NewSignal();
    private TaskCompletionSource _nudged = NewSignal();

    public SequenceCache(string name)
    {
        Name = name;
    }

    public string Name { get; }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>Adds or replaces the item of <paramref name="finalBatch"/>; returns true if the sequence was not held yet.</summary>
    public bool Put(ulong finalBatch, T item)
    {
        TaskCompletionSource signal;
        bool added;
        lock (_gate)
        {
            added = !_items.ContainsKey(finalBatch);
            _items[finalBatch] = item;
            signal = _changed;
            _changed = NewSignal();
        }

        signal.TrySetResult();
        return added;
    }

    /// <summary>Completes <see cref="NudgeSignal"/> (something a waiter decides on changed elsewhere, no item did).</summary>
    public void Nudge()
    {
        TaskCompletionSource signal;
        lock (_gate)
        {
            signal = _nudged;
            _nudged = NewSignal();
        }

        signal.TrySetResult();
    }

    /// <summary>A task that completes at the next <see cref="Nudge"/>. Take it before reading what a nudge would change,
    /// and wait on it after: a nudge that comes in between is not lost.</summary>
    public Task NudgeSignal()
    {
        lock (_gate)
        {
            return _nudged.Task;
        }
    }

    public bool Contains(ulong finalBatch)
    {
        lock (_gate)
        {
            return _items.ContainsKey(finalBatch);
        }
    }

    public bool TryRemove(ulong finalBatch, out T item)
    {
        lock (_gate)
        {
            return _items.Remove(finalBatch, out item!);
        }
    }

    /// <summary>The held items, lowest sequence first (a copy).</summary>
    public IReadOnlyList<KeyValuePair<ulong, T>> Snapshot()
    {
        lock (_gate)
        {
            return [.. _items];
        }
    }

    /// <summary>Removes and returns the lowest sequence's item, waiting for one if the cache is empty.</summary>
    public async Task<KeyValuePair<ulong, T>> TakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_items.Count > 0)
                {
                    var first = _items.First();
                    _items.Remove(first.Key);
                    return first;
                }

                wait = _changed.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A task that completes at the next <see cref="Put"/>. Like <see cref="NudgeSignal"/>: take it before reading
    /// the items, and wait on it after; an item put in between is not lost.</summary>
    public Task ChangeSignal()
    {
        lock (_gate)
        {
            return _changed.Task;
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
