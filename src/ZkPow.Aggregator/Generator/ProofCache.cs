namespace ZkPow.Aggregator.Generator;

/// <summary>
/// Recursive proofs kept in memory between the job that made them and the aggregation that consumes them, so that a
/// dispatch does not wait for a database read. Bounded by bytes (a proof text counts two bytes a character): adding
/// past the bound evicts the oldest entries, whose readers fall back to the store. Thread-safe.
/// </summary>
internal sealed class ProofCache(long maxBytes)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _order = new();

    /// <summary>The bound, in bytes.</summary>
    public long MaxBytes { get; } = maxBytes;

    /// <summary>Bytes held now.</summary>
    public long Bytes { get; private set; }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Proofs evicted to stay within the bound so far.</summary>
    public long Evictions { get; private set; }

    public static long SizeOf(string proof) => 2L * proof.Length;

    /// <summary>Caches the proof of task <paramref name="taskId"/> of sequence <paramref name="sequence"/>; a proof
    /// larger than the whole bound is not cached.</summary>
    public void Add(long taskId, ulong sequence, string proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        var size = SizeOf(proof);
        lock (_gate)
        {
            RemoveLocked(taskId);
            if (size > MaxBytes)
            {
                return;
            }

            while (Bytes + size > MaxBytes && _order.First is { } oldest)
            {
                RemoveLocked(oldest.Value.TaskId);
                Evictions++;
            }

            _entries[taskId] = _order.AddLast(new Entry(taskId, sequence, proof));
            Bytes += size;
        }
    }

    public bool TryGetValue(long taskId, out string proof)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(taskId, out var node))
            {
                proof = node.Value.Proof;
                return true;
            }
        }

        proof = string.Empty;
        return false;
    }

    public bool Remove(long taskId)
    {
        lock (_gate)
        {
            return RemoveLocked(taskId);
        }
    }

    /// <summary>Drops every proof of a sequence (retired, discarded, abandoned or parked). Returns how many.</summary>
    public int RemoveSequence(ulong sequence)
    {
        lock (_gate)
        {
            var removed = 0;
            for (var node = _order.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.Sequence == sequence)
                {
                    RemoveLocked(node.Value.TaskId);
                    removed++;
                }

                node = next;
            }

            return removed;
        }
    }

    private bool RemoveLocked(long taskId)
    {
        if (!_entries.Remove(taskId, out var node))
        {
            return false;
        }

        _order.Remove(node);
        Bytes -= SizeOf(node.Value.Proof);
        return true;
    }

    private sealed record Entry(long TaskId, ulong Sequence, string Proof);
}
