using Microsoft.Extensions.Logging;

namespace ZkPow.Aggregator.Hosting;

/// <summary>Stops one part at shutdown: whatever it throws (a node that fails a call while a worker stops) is logged
/// on one line and does not stop the parts after it.</summary>
internal sealed partial class PartStopper(ILogger<PartStopper> logger)
{
    public async Task StopAsync(string part, Func<ValueTask> stop)
    {
        try
        {
            await stop().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogStopFailed(part, ex.GetType().Name, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping {Part} failed ({Error}: {Reason}); carrying on with the shutdown")]
    private partial void LogStopFailed(string part, string error, string reason);
}
