namespace ZkPow.Aggregator.Storage;

/// <summary>
/// A fenced write: this replica's leader lease (<see cref="IFence"/>) is no longer the current one in the database, so
/// the transaction was rolled back and nothing was changed. The transaction manager stops on it; the replica steps down.
/// Deliberately not an <see cref="InvalidOperationException"/>, so that no retry loop swallows it.
/// </summary>
public sealed class FencedException : Exception
{
    public FencedException()
        : this("this replica's leader lease is no longer current")
    {
    }

    public FencedException(string message)
        : base(message)
    {
    }

    public FencedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
