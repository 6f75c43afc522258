using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Chain;

public sealed partial class TxManager
{
    /// <summary>Raised once when the store refused a write or a broadcast because another replica leads now
    /// (<see cref="FencedException"/>); the manager's loop has stopped and sends nothing more.</summary>
    public event Action<FencedException>? Fenced;

    /// <summary>True once the store fenced this manager off.</summary>
    public bool IsFenced => Volatile.Read(ref _fenced) != 0;

    private int _fenced;

    private void OnFenced(FencedException e)
    {
        if (Interlocked.Exchange(ref _fenced, 1) == 0)
        {
            LogFenced(Address, e.Message);
            try
            {
                // The loop stops too (if this came from a caller's submission rather than from the loop).
                _stopping.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Already disposed.
            }

            Fenced?.Invoke(e);
        }
    }

    /// <summary>Awaits <paramref name="write"/>; a fenced write stops the manager (<see cref="OnFenced"/>) and is rethrown.</summary>
    private async Task WatchFenceAsync(Task write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (FencedException e)
        {
            OnFenced(e);
            throw;
        }
    }

    private async Task<T> WatchFenceAsync<T>(Task<T> write)
    {
        try
        {
            return await write.ConfigureAwait(false);
        }
        catch (FencedException e)
        {
            OnFenced(e);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Transaction manager of {Sender} fenced off: {Reason}; it stops sending")]
    private partial void LogFenced(string sender, string reason);
}
