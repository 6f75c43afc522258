namespace ZkPow.Aggregator.Chain;

/// <summary>A caller's view of one managed transaction: <see cref="Completion"/> ends with the transaction as stored once
/// it is final (Confirmed, or Failed with its reason). Waiting on it never waits on anyone else's transaction.</summary>
public sealed class TxHandle(long id, string key, Task<TxRecord> completion)
{
    public long Id { get; } = id;

    public string Key { get; } = key;

    public Task<TxRecord> Completion { get; } = completion;

    /// <summary>Waits for the final state, or for <paramref name="cancellationToken"/> (which leaves the transaction alone).</summary>
    public Task<TxRecord> WaitAsync(CancellationToken cancellationToken) => Completion.WaitAsync(cancellationToken);

    public override string ToString() => $"tx {Key}";
}
