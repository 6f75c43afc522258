namespace ZkPow.Devnet.Prover;

/// <summary>State of one Channel stream: its cancellation, its watchdog timer and when the aggregator was last heard.</summary>
internal sealed class MockProverConnection(CancellationToken runToken) : IDisposable
{
    private readonly CancellationTokenSource _cts = CancellationTokenSource.CreateLinkedTokenSource(runToken);
    private long _lastHeard;
    private int _dropReason;

    public CancellationToken Token => _cts.Token;

    public ITimer? Watchdog { get; set; }

    public long LastHeard
    {
        get => Interlocked.Read(ref _lastHeard);
        set => Interlocked.Exchange(ref _lastHeard, value);
    }

    /// <summary>Why the prover dropped this stream itself, if it did.</summary>
    public MockDropReason DropReason => (MockDropReason)Volatile.Read(ref _dropReason);

    /// <summary>Drops the stream (first reason wins); safe to call from any thread, also after disposal.</summary>
    public void Drop(MockDropReason reason)
    {
        if (Interlocked.CompareExchange(ref _dropReason, (int)reason, 0) != 0)
        {
            return;
        }

        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The stream has already ended.
        }
    }

    public void Dispose()
    {
        Watchdog?.Dispose();
        _cts.Dispose();
    }
}
