namespace ZkPow.Aggregator.Generator;

/// <summary>
/// Puts the tasks of sequences that have a deadline (a round opened by another miner: we must commit before
/// start + T1) before all others, earliest deadline first; otherwise the inner priority decides. Deadlines change
/// under the generator's lock, with the affected ready tasks taken out of the sorted set and put back.
/// </summary>
internal sealed class DeadlinePriority(IComparer<ProofTask> inner) : IComparer<ProofTask>
{
    private readonly Dictionary<ulong, ulong> _deadlines = [];

    public void Set(ulong sequence, ulong? deadlineBlock)
    {
        if (deadlineBlock is { } block)
        {
            _deadlines[sequence] = block;
        }
        else
        {
            _deadlines.Remove(sequence);
        }
    }

    public ulong? Get(ulong sequence) => _deadlines.TryGetValue(sequence, out var block) ? block : null;

    public int Compare(ProofTask? x, ProofTask? y)
    {
        if (x is not null && y is not null && x.Sequence != y.Sequence)
        {
            var dx = Get(x.Sequence);
            var dy = Get(y.Sequence);
            if (dx is not null || dy is not null)
            {
                var c = (dx ?? ulong.MaxValue).CompareTo(dy ?? ulong.MaxValue);
                if (c != 0)
                {
                    return c;
                }
            }
        }

        return inner.Compare(x, y);
    }
}
