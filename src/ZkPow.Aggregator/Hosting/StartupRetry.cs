using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// Start-up calls to the nodes: a transient failure (a node that is down or stalls, an error answer that is not a
/// definite one) is retried with a growing delay (capped at <see cref="MaxDelay"/>), a Warning per failed attempt and the
/// reason shown by <c>/health/ready</c>; only cancellation (a stop) ends the wait.
/// </summary>
internal sealed partial class StartupRetry(AggregatorReadiness readiness, TimeProvider time, ILogger<StartupRetry> logger)
{
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    /// <summary>How long the first attempt may go unanswered before the wait is logged (and shown by readiness).</summary>
    public static readonly TimeSpan SlowNotice = TimeSpan.FromSeconds(2);

    /// <summary>Failures of a node that another attempt may not see: transport errors, timeouts, error answers,
    /// malformed answers.</summary>
    public static bool IsTransient(Exception error) => error is ChainUnavailableException or EthRpcException or RollupNodeException
        or HttpRequestException or TimeoutException or System.Text.Json.JsonException or FormatException;

    /// <summary>Runs <paramref name="call"/> until it succeeds; <paramref name="what"/> names the wait ("the base chain's
    /// chain id at …").</summary>
    public async Task<T> RunAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken,
        Func<Exception, bool>? transient = null)
    {
        transient ??= IsTransient;
        readiness.Starting(what);
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var pending = call(cancellationToken);
                if (attempt == 1 && !pending.IsCompleted)
                {
                    // A node that does not answer keeps one attempt going for as long as the client retries it (about
                    // half a minute): say so early rather than stay silent until the attempt fails.
                    using var answered = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    var notice = Task.Delay(SlowNotice, time, answered.Token);
                    if (await Task.WhenAny(pending, notice).ConfigureAwait(false) == notice && !notice.IsCanceled)
                    {
                        LogNoAnswerYet(UrlRedaction.Redact(what), SlowNotice.TotalSeconds);
                        readiness.Starting(UrlRedaction.Redact($"waiting for {what}: no answer yet"));
                    }

                    await answered.CancelAsync().ConfigureAwait(false);
                }

                return await pending.ConfigureAwait(false);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is not OperationCanceledException && transient(ex))
            {
                // Stopped while an attempt was failing (its connection refused as the stop came): the wait ends as a stop,
                // not as a start that failed.
                throw new OperationCanceledException($"stopped while waiting for {UrlRedaction.Redact(what)}", ex, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && (transient(ex) || ex is OperationCanceledException))
            {
                // A timeout of the HTTP client surfaces as a cancellation that is not ours: transient too.
                // Node URLs may carry API keys: whatever a message quotes is redacted.
                readiness.Starting(UrlRedaction.Redact($"waiting for {what}: {ex.Message}"));
                LogWaiting(UrlRedaction.Redact(what), attempt, UrlRedaction.Redact(ex.Message), delay.TotalSeconds);
            }

            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
        }
    }

    public Task RunAsync(string what, Func<CancellationToken, Task> call, CancellationToken cancellationToken, Func<Exception, bool>? transient = null) =>
        RunAsync(what, async ct =>
        {
            await call(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken, transient);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Start-up waits for {What} (attempt {Attempt} failed: {Reason}); trying again in {DelaySeconds:0.##} s")]
    private partial void LogWaiting(string what, int attempt, string reason, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Start-up waits for {What}: no answer after {Seconds:0.##} s; still trying")]
    private partial void LogNoAnswerYet(string what, double seconds);
}
