using Grpc.Core;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Devnet.Tests.Prover;

/// <summary>The server side of one prover's Channel stream, driven by a test in lockstep.</summary>
internal sealed class TestProverStream
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);
    private readonly IAsyncStreamReader<ProverMessage> _fromProver;
    private readonly IServerStreamWriter<AggregatorMessage> _toProver;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _nextId;

    public TestProverStream(IAsyncStreamReader<ProverMessage> fromProver, IServerStreamWriter<AggregatorMessage> toProver,
        CancellationToken callCancelled)
    {
        _fromProver = fromProver;
        _toProver = toProver;
        CallCancelled = callCancelled;
        callCancelled.Register(() => _closed.TrySetResult());
    }

    /// <summary>Cancelled when the prover resets the stream.</summary>
    public CancellationToken CallCancelled { get; }

    /// <summary>Completes when the test closes the stream or the prover resets it.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Ends the call from the server side.</summary>
    public void Close() => _closed.TrySetResult();

    /// <summary>Sends a request with a fresh id (unless it has one) and returns the prover's reply.</summary>
    public async Task<ProverMessage> SendAsync(AggregatorMessage request, TimeSpan? timeout = null)
    {
        var reply = await TrySendAsync(request, timeout ?? DefaultTimeout);
        return reply ?? throw new TimeoutException($"no reply to {request.RequestCase}");
    }

    /// <summary>Sends a request and returns the reply, or null if none came within the timeout or the stream ended.</summary>
    public async Task<ProverMessage?> TrySendAsync(AggregatorMessage request, TimeSpan timeout)
    {
        if (request.Id.Length == 0)
        {
            request.Id = "req-" + Interlocked.Increment(ref _nextId);
        }

        try
        {
            await _toProver.WriteAsync(request);
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or IOException or RpcException or OperationCanceledException)
        {
            return null; // The prover dropped the stream before the request could be written.
        }

        return await TryReceiveAsync(timeout);
    }

    /// <summary>Waits for the next message from the prover; null on timeout or end of stream.</summary>
    public async Task<ProverMessage?> TryReceiveAsync(TimeSpan timeout)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(CallCancelled);
        cts.CancelAfter(timeout);
        try
        {
            return await _fromProver.MoveNext(cts.Token) ? _fromProver.Current : null;
        }
        catch (Exception ex) when (ex is OperationCanceledException or RpcException or IOException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>True if the prover ends or resets the stream within the timeout.</summary>
    public async Task<bool> WaitForProverToLeaveAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (CallCancelled.IsCancellationRequested)
            {
                return true;
            }

            using var cts = CancellationTokenSource.CreateLinkedTokenSource(CallCancelled);
            cts.CancelAfter(deadline - DateTime.UtcNow);
            try
            {
                if (!await _fromProver.MoveNext(cts.Token))
                {
                    // The prover half-closed: end the call like an aggregator would.
                    Close();
                    return true;
                }
            }
            catch (Exception) when (CallCancelled.IsCancellationRequested)
            {
                return true;
            }
            catch (IOException)
            {
                // The prover reset the stream; the reset can reach the request body before it cancels the call.
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        return CallCancelled.IsCancellationRequested;
    }
}
