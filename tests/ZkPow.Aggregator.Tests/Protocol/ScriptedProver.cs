using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Aggregator.Tests.Protocol;

/// <summary>
/// A prover client whose every answer is scripted by the test (a fake for testing one class, the session), over a
/// real gRPC stream. The script returns the answer, or null to stay silent.
/// </summary>
internal sealed class ScriptedProver : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly AsyncDuplexStreamingCall<ProverMessage, AggregatorMessage> _call;
    private readonly Func<AggregatorMessage, ProverMessage?> _script;
    private readonly Task _loop;

    public ScriptedProver(Uri server, Func<AggregatorMessage, ProverMessage?> script, HttpMessageHandler? handler = null, Metadata? headers = null)
    {
        _script = script;
        _channel = GrpcChannel.ForAddress(server, new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null, HttpHandler = handler });
        _call = new AggregatorService.AggregatorServiceClient(_channel).Channel(headers);
        _loop = Task.Run(LoopAsync);
    }

    public ConcurrentQueue<(long At, AggregatorMessage Request)> Received { get; } = new();

    public bool StreamEnded { get; private set; }

    /// <summary>The status the call ended with, when it ended with an error (e.g. PermissionDenied).</summary>
    public StatusCode? EndStatus { get; private set; }

    /// <summary>The detail of that status.</summary>
    public string? EndDetail { get; private set; }

    /// <summary>A handler whose connections leave from <paramref name="local"/> (e.g. 127.0.0.2, another loopback
    /// address), so that the server sees another remote address.</summary>
    public static SocketsHttpHandler From(IPAddress local) => new()
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(local, 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>Writes a message the aggregator did not ask for.</summary>
    public Task SendAsync(ProverMessage message) => _call.RequestStream.WriteAsync(message);

    private async Task LoopAsync()
    {
        try
        {
            await foreach (var request in _call.ResponseStream.ReadAllAsync())
            {
                Received.Enqueue((Stopwatch.GetTimestamp(), request));
                var answer = _script(request);
                if (answer is not null)
                {
                    await _call.RequestStream.WriteAsync(answer);
                }
            }
        }
        catch (RpcException ex)
        {
            EndStatus = ex.StatusCode;
            EndDetail = ex.Status.Detail + (ex.Status.DebugException is { } debug ? $" ({debug.GetBaseException().Message})" : "");
        }
        catch (InvalidOperationException)
        {
        }

        StreamEnded = true;
    }

    public IEnumerable<AggregatorMessage> Requests(AggregatorMessage.RequestOneofCase kind) =>
        Received.Select(r => r.Request).Where(r => r.RequestCase == kind);

    /// <summary>Drops the stream as a crashing prover would.</summary>
    public void Drop() => _call.Dispose();

    public async ValueTask DisposeAsync()
    {
        _call.Dispose();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }

        _channel.Dispose();
    }

    public static ProverMessage Status(AggregatorMessage request, string name = "scripted", string instance = "instance-1",
        ulong forkId = 6, GetStatusResponse.Types.Status status = GetStatusResponse.Types.Status.Idle) => new()
        {
            Id = request.Id,
            GetStatusResponse = new GetStatusResponse { Status = status, ProverName = name, ProverId = instance, ForkId = forkId },
        };

    /// <summary>A well-behaved script: idle status, accepts jobs as "job-N", completes them when polled
    /// <paramref name="pendingPolls"/> times, with proof text "proof-of-job-N".</summary>
    public static Func<AggregatorMessage, ProverMessage?> WellBehaved(string name = "scripted", string instance = "instance-1", int pendingPolls = 0)
    {
        var jobs = 0;
        var polls = new ConcurrentDictionary<string, int>();
        return request =>
        {
            switch (request.RequestCase)
            {
                case AggregatorMessage.RequestOneofCase.GetStatusRequest:
                    return Status(request, name, instance);
                case AggregatorMessage.RequestOneofCase.GenBatchProofRequest:
                    return new ProverMessage { Id = request.Id, GenBatchProofResponse = new GenBatchProofResponse { Id = $"job-{Interlocked.Increment(ref jobs)}", Result = Result.Ok } };
                case AggregatorMessage.RequestOneofCase.GenAggregatedProofRequest:
                    return new ProverMessage { Id = request.Id, GenAggregatedProofResponse = new GenAggregatedProofResponse { Id = $"job-{Interlocked.Increment(ref jobs)}", Result = Result.Ok } };
                case AggregatorMessage.RequestOneofCase.GetProofRequest:
                    var id = request.GetProofRequest.Id;
                    var n = polls.AddOrUpdate(id, 1, (_, v) => v + 1);
                    var answer = new GetProofResponse { Id = id };
                    if (n <= pendingPolls)
                    {
                        answer.Result = GetProofResponse.Types.Result.Pending;
                    }
                    else
                    {
                        answer.Result = GetProofResponse.Types.Result.CompletedOk;
                        answer.RecursiveProof = "proof-of-" + id;
                    }

                    return new ProverMessage { Id = request.Id, GetProofResponse = answer };
                case AggregatorMessage.RequestOneofCase.CancelRequest:
                    return new ProverMessage { Id = request.Id, CancelResponse = new CancelResponse { Result = Result.Ok } };
                default:
                    return null;
            }
        };
    }
}
