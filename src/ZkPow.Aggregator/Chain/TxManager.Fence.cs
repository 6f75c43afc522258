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
            Fenced?.Invoke(e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Transaction manager of {Sender} fenced off: {Reason}; it stops sending")]
    private partial void LogFenced(string sender, string reason);
}
