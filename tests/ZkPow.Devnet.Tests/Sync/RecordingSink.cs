using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Devnet.Tests.Sync;

/// <summary>Records what the sync hands over, and passes it on to an inner sink (the real generator) if given.</summary>
internal sealed class RecordingSink(ISequenceSink? inner = null) : ISequenceSink
{
    private readonly Lock _gate = new();

    public List<SequenceInput> Added { get; } = [];
    public List<(ulong Final, string Reason)> Discarded { get; } = [];
    public List<(ulong Final, string Reason)> Abandoned { get; } = [];
    public Dictionary<ulong, ulong?> Deadlines { get; } = [];

    public async Task AddSequenceAsync(SequenceInput sequence, CancellationToken cancellationToken)
    {
        // Recorded once the inner sink has it: a hand-off cancelled half-way (the sync stopped) is not one (the sync hands
        // the range over again when it resumes), and a test that stops the sync once enough is added must find it stored.
        if (inner is not null)
        {
            await inner.AddSequenceAsync(sequence, cancellationToken);
        }

        lock (_gate)
        {
            Added.Add(sequence);
        }
    }

    public async Task DiscardSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Discarded.Add((finalBatch, reason));
        }

        if (inner is not null)
        {
            await inner.DiscardSequenceAsync(finalBatch, reason, cancellationToken);
        }
    }

    public async Task AbandonSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Abandoned.Add((finalBatch, reason));
        }

        if (inner is not null)
        {
            await inner.AbandonSequenceAsync(finalBatch, reason, cancellationToken);
        }
    }

    public void SetDeadline(ulong finalBatch, ulong? deadlineBlock)
    {
        lock (_gate)
        {
            Deadlines[finalBatch] = deadlineBlock;
        }

        inner?.SetDeadline(finalBatch, deadlineBlock);
    }
}
