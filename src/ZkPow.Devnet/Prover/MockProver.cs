using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Devnet.Prover;

/// <summary>
/// A mock zkEVM prover that speaks the aggregator.v1 protocol as a gRPC client: it dials the aggregator, opens
/// <c>Channel</c> and answers each request, computing devnet proofs (see <see cref="MockRecursiveProof"/>). Like a real
/// prover it reconnects when the stream drops, drops the stream when the aggregator is silent for the watchdog time,
/// runs jobs one at a time in FIFO order and forgets them on restart. No threads or timers per job: job progress is
/// derived from the <see cref="TimeProvider"/> clock when the aggregator asks.
/// </summary>
public sealed class MockProver : IAsyncDisposable
{
    private const string VersionProto = "v0_0_1";
    private const string VersionServer = "zkpow-mock-prover/1";
    private static readonly TimeSpan StreamEndGrace = TimeSpan.FromSeconds(1);

    private readonly MockProverOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MockJobQueue _jobs;
    private readonly MockProverJournal? _journal;
    private readonly Random _random;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly ulong _totalMemoryKb;
    private readonly List<MockJobTiming> _timings = [];
    private readonly Metadata? _headers;
    private GrpcChannel _channel;
    private AggregatorService.AggregatorServiceClient _client;
    private MockProverConnection? _connection;
    private TaskCompletionSource? _runCompletion;
    private string _instanceId;
    private bool _recreateChannel;
    private int _addressIndex;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (ulong InitBatch, ulong FinalBatch)> _finalJobs = new();
    private volatile bool _connected;
    private int _disposed;

    /// <summary>Creates a prover; <paramref name="options"/> are validated and copied.</summary>
    public MockProver(MockProverOptions options, TimeProvider? timeProvider = null, ILogger<MockProver>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = new MockProverOptions
        {
            Aggregator = options.Aggregator,
            FallbackAggregators = [.. options.FallbackAggregators],
            Name = options.Name,
            InstanceId = options.InstanceId,
            ForkId = options.ForkId,
            BatchLatency = options.BatchLatency,
            AggregateLatency = options.AggregateLatency,
            FinalLatency = options.FinalLatency,
            FailureRate = options.FailureRate,
            LatencyJitter = options.LatencyJitter,
            Speed = options.Speed,
            HonourGetProofTimeout = options.HonourGetProofTimeout,
            RecordTimings = options.RecordTimings,
            Seed = options.Seed,
            ReconnectDelay = options.ReconnectDelay,
            Watchdog = options.Watchdog,
            Misbehaviour = options.Misbehaviour,
            FlapInterval = options.FlapInterval,
            BearerToken = options.BearerToken,
            ClientCertificate = options.ClientCertificate,
            ServerCertificateAuthority = options.ServerCertificateAuthority,
            JournalPath = options.JournalPath,
            MaxReceiveMessageSize = options.MaxReceiveMessageSize,
            JobRetention = options.JobRetention,
            ProofBytes = options.ProofBytes,
        };
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger<MockProver>.Instance;
        _jobs = new MockJobQueue(_options.JobRetention);
        _journal = _options.JournalPath is { } path ? new MockProverJournal(path, _time) : null;
        _random = _options.Seed is { } seed ? new Random(seed) : new Random();
        _instanceId = _options.InstanceId ?? Guid.NewGuid().ToString();
        _totalMemoryKb = (ulong)Math.Max(0, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024);
        _headers = _options.BearerToken is { } token ? new Metadata { { "authorization", $"Bearer {token}" } } : null;
        (_channel, _client) = CreateClient();
    }

    /// <summary>The stable prover name (<c>prover_name</c>).</summary>
    public string Name => _options.Name;

    /// <summary>The current instance id (<c>prover_id</c>); changes on every restart.</summary>
    public string InstanceId
    {
        get
        {
            lock (_lock)
            {
                return _instanceId;
            }
        }
    }

    /// <summary>The address the prover dials now: <see cref="MockProverOptions.Aggregator"/>, or one of
    /// <see cref="MockProverOptions.FallbackAggregators"/> after a connection failed or a stream ended.</summary>
    public Uri CurrentAggregator
    {
        get
        {
            lock (_lock)
            {
                return AddressAt(_addressIndex);
            }
        }
    }

    private Uri AddressAt(int index) => index == 0 ? _options.Aggregator : _options.FallbackAggregators[index - 1];

    /// <summary>True while a stream is open on which the aggregator has sent something.</summary>
    public bool IsConnected => _connected;

    public MockProverCounters Counters { get; } = new();

    /// <summary>The timing of every job accepted so far (empty unless <see cref="MockProverOptions.RecordTimings"/>).</summary>
    public IReadOnlyList<MockJobTiming> JobTimings()
    {
        lock (_timings)
        {
            return [.. _timings];
        }
    }

    /// <summary>
    /// Connects and serves until <paramref name="cancellationToken"/> is cancelled or <see cref="StopAsync"/> is
    /// called, reconnecting after <see cref="MockProverOptions.ReconnectDelay"/> whenever the stream ends or the
    /// aggregator is unreachable. Only one run at a time; a stopped prover cannot run again.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_runCompletion is not null)
            {
                throw new InvalidOperationException("the prover is already running");
            }

            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            _runCompletion = completion;
        }

        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        try
        {
            while (!run.IsCancellationRequested)
            {
                await RunStreamAsync(run.Token).ConfigureAwait(false);
                if (run.IsCancellationRequested)
                {
                    break;
                }

                if (_options.FallbackAggregators.Count > 0)
                {
                    lock (_lock)
                    {
                        // The connection failed or the stream ended: the next address, on a new connection.
                        _addressIndex = (_addressIndex + 1) % (_options.FallbackAggregators.Count + 1);
                        _recreateChannel = true;
                    }
                }

                try
                {
                    await Task.Delay(_options.ReconnectDelay, _time, run.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                _runCompletion = null;
            }

            completion.TrySetResult();
        }
    }

    /// <summary>Restarts the prover: new instance id, all jobs forgotten, the stream dropped and reopened.</summary>
    public void Restart()
    {
        MockProverConnection? connection;
        lock (_lock)
        {
            RestartCore();
            connection = _connection;
        }

        connection?.Drop(MockDropReason.Restart);
    }

    /// <summary>Stops the prover and waits for <see cref="RunAsync"/> to return.</summary>
    public async Task StopAsync()
    {
        Task? running;
        lock (_lock)
        {
            running = _runCompletion?.Task;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        if (running is not null)
        {
            await running.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync().ConfigureAwait(false);
        _channel.Dispose();
        _stop.Dispose();
    }

    private async Task RunStreamAsync(CancellationToken runToken)
    {
        using var connection = new MockProverConnection(runToken);
        AggregatorService.AggregatorServiceClient client;
        lock (_lock)
        {
            if (_recreateChannel)
            {
                // A restarted process opens a new connection.
                _recreateChannel = false;
                _channel.Dispose();
                (_channel, _client) = CreateClient();
            }

            client = _client;
            _connection = connection;
            MockProverLog.Connecting(_logger, _options.Name, _instanceId, AddressAt(_addressIndex));
        }

        Counters.ConnectionAttempted();
        connection.LastHeard = _time.GetTimestamp();
        connection.Watchdog = _time.CreateTimer(OnWatchdog, connection, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        connection.Watchdog.Change(_options.Watchdog, Timeout.InfiniteTimeSpan);
        using var flap = _options.Misbehaviour == MockProverMisbehaviour.Flapping
            ? _time.CreateTimer(static state => ((MockProverConnection)state!).Drop(MockDropReason.Misbehaviour), connection, _options.FlapInterval,
                Timeout.InfiniteTimeSpan)
            : null;
        var silent = false;
        try
        {
            using var call = client.Channel(_headers, cancellationToken: connection.Token);
            var responses = call.ResponseStream;
            while (await responses.MoveNext(connection.Token).ConfigureAwait(false))
            {
                connection.LastHeard = _time.GetTimestamp();
                if (!_connected)
                {
                    _connected = true;
                    Counters.Connected();
                }

                if (silent)
                {
                    continue;
                }

                var (reply, after) = await HandleAsync(responses.Current, connection.Token).ConfigureAwait(false);
                if (reply is not null)
                {
                    await call.RequestStream.WriteAsync(reply, connection.Token).ConfigureAwait(false);
                }

                switch (after)
                {
                    case MockAfterReply.Continue:
                        break;
                    case MockAfterReply.GoSilent:
                        silent = true;
                        break;
                    case MockAfterReply.Drop:
                        await EndStreamAsync(call, connection.Token).ConfigureAwait(false);
                        connection.Drop(MockDropReason.Misbehaviour);
                        return;
                    case MockAfterReply.Restart:
                        await EndStreamAsync(call, connection.Token).ConfigureAwait(false);
                        Restart();
                        return;
                    default:
                        throw new InvalidOperationException($"unexpected {after}");
                }
            }

            MockProverLog.StreamEnded(_logger, _options.Name, "closed by the aggregator");
        }
        catch (Exception ex) when (ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled }
            && (runToken.IsCancellationRequested || connection.DropReason != MockDropReason.None))
        {
            MockProverLog.StreamEnded(_logger, _options.Name,
                runToken.IsCancellationRequested ? "stopped" : $"dropped ({connection.DropReason})");
        }
        catch (RpcException ex)
        {
            MockProverLog.StreamEnded(_logger, _options.Name, $"{ex.StatusCode}: {ex.Status.Detail}");
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
        {
            MockProverLog.StreamEnded(_logger, _options.Name, ex.Message);
        }
        finally
        {
            _connected = false;
            lock (_lock)
            {
                if (_connection == connection)
                {
                    _connection = null;
                }
            }
        }
    }

    /// <summary>
    /// Half-closes the stream so that the reply just written reaches the aggregator, then waits briefly for the
    /// aggregator to end the call (ignoring anything it still sends).
    /// </summary>
    private async Task EndStreamAsync(AsyncDuplexStreamingCall<ProverMessage, AggregatorMessage> call,
        CancellationToken cancellationToken)
    {
        using var grace = new CancellationTokenSource(StreamEndGrace, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, grace.Token);
        try
        {
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            while (await call.ResponseStream.MoveNext(linked.Token).ConfigureAwait(false))
            {
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or RpcException or IOException or InvalidOperationException)
        {
            // The stream is going away in any case.
        }
    }

    private void OnWatchdog(object? state)
    {
        var connection = (MockProverConnection)state!;
        var silence = _time.GetElapsedTime(connection.LastHeard);
        if (silence < _options.Watchdog)
        {
            try
            {
                connection.Watchdog?.Change(_options.Watchdog - silence, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // The stream has already ended.
            }

            return;
        }

        if (connection.DropReason == MockDropReason.None && !connection.Token.IsCancellationRequested)
        {
            Counters.WatchdogDropped();
            MockProverLog.WatchdogFired(_logger, _options.Name, _options.Watchdog);
            connection.Drop(MockDropReason.Watchdog);
        }
    }

    private async ValueTask<(ProverMessage? Reply, MockAfterReply After)> HandleAsync(AggregatorMessage message,
        CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (message.Id.Length == 0)
        {
            Counters.ProtocolViolated();
        }

        var reply = new ProverMessage { Id = message.Id };
        var after = MockAfterReply.Continue;
        var misbehaviour = _options.Misbehaviour;
        switch (message.RequestCase)
        {
            case AggregatorMessage.RequestOneofCase.GetStatusRequest:
                reply.GetStatusResponse = Status(now);
                break;
            case AggregatorMessage.RequestOneofCase.GenBatchProofRequest:
                reply.GenBatchProofResponse = new GenBatchProofResponse
                {
                    Id = await AcceptAsync(MockProofKind.Batch,
                        Junk(MockProofComputer.Batch(message.GenBatchProofRequest, _options.ForkId,
                            misbehaviour == MockProverMisbehaviour.EmptyProof, _options.ProofBytes)),
                        message.Id, now, cancellationToken).ConfigureAwait(false),
                    Result = Result.Ok,
                };
                after = AfterAccept();
                break;
            case AggregatorMessage.RequestOneofCase.GenAggregatedProofRequest:
                reply.GenAggregatedProofResponse = new GenAggregatedProofResponse
                {
                    Id = await AcceptAsync(MockProofKind.Aggregated,
                        Junk(MockProofComputer.Aggregate(message.GenAggregatedProofRequest,
                            misbehaviour == MockProverMisbehaviour.EmptyProof, _options.ProofBytes)),
                        message.Id, now, cancellationToken).ConfigureAwait(false),
                    Result = Result.Ok,
                };
                after = AfterAccept();
                break;
            case AggregatorMessage.RequestOneofCase.GenFinalProofRequest:
                reply.GenFinalProofResponse = new GenFinalProofResponse
                {
                    Id = await AcceptAsync(MockProofKind.Final,
                        MockProofComputer.Final(message.GenFinalProofRequest,
                            misbehaviour == MockProverMisbehaviour.WrongFinalProof,
                            misbehaviour == MockProverMisbehaviour.EmptyProof),
                        message.Id, now, cancellationToken).ConfigureAwait(false),
                    Result = Result.Ok,
                };
                after = AfterAccept();
                break;
            case AggregatorMessage.RequestOneofCase.CancelRequest:
                if (message.CancelRequest.Id.Length == 0)
                {
                    Counters.ProtocolViolated();
                }

                reply.CancelResponse = new CancelResponse
                {
                    Result = _jobs.Cancel(message.CancelRequest.Id, now) ? Result.Ok : Result.Error,
                };
                if (_finalJobs.TryGetValue(message.CancelRequest.Id, out var cancelled))
                {
                    Counters.FinalProofCancelled(cancelled.InitBatch, cancelled.FinalBatch);
                }

                break;
            case AggregatorMessage.RequestOneofCase.GetProofRequest:
                reply.GetProofResponse = await GetProofAsync(message.GetProofRequest, now, cancellationToken).ConfigureAwait(false);
                Counters.GetProofAnswered();
                now = _time.GetUtcNow();
                break;
            case AggregatorMessage.RequestOneofCase.None:
                MockProverLog.EmptyRequest(_logger, _options.Name, message.Id);
                return (null, MockAfterReply.Continue);
            default:
                throw new InvalidOperationException($"unexpected request case {message.RequestCase}");
        }

        switch (misbehaviour)
        {
            case MockProverMisbehaviour.WrongEchoId:
                reply.Id = "wrong-" + message.Id;
                break;
            case MockProverMisbehaviour.WrongResponseType
                when message.RequestCase != AggregatorMessage.RequestOneofCase.GetStatusRequest:
                reply.GetStatusResponse = Status(now);
                break;
            default:
                break;
        }

        return (reply, after);
    }

    /// <summary>With <see cref="MockProverMisbehaviour.JunkRecursiveProof"/>, a recursive proof that completes OK is
    /// replaced by junk: hex of random bytes, which no prover can aggregate or finalise.</summary>
    private MockComputation Junk(MockComputation computation)
    {
        if (_options.Misbehaviour != MockProverMisbehaviour.JunkRecursiveProof || computation.Outcome.Error is not null)
        {
            return computation;
        }

        var junk = new byte[96];
        lock (_random)
        {
            _random.NextBytes(junk);
        }

        return computation with { Outcome = MockJobOutcome.Recursive(Convert.ToHexStringLower(junk)) };
    }

    private MockAfterReply AfterAccept() => _options.Misbehaviour switch
    {
        MockProverMisbehaviour.DisconnectMidJob => MockAfterReply.Drop,
        MockProverMisbehaviour.StopAnswering => MockAfterReply.GoSilent,
        MockProverMisbehaviour.ForgetJobs => MockAfterReply.Restart,
        _ => MockAfterReply.Continue,
    };

    private async ValueTask<string> AcceptAsync(MockProofKind kind, MockComputation computation, string requestId, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var outcome = computation.Outcome;
        if (_options.Misbehaviour == MockProverMisbehaviour.FailEveryJob)
        {
            outcome = MockJobOutcome.Failed("this prover fails every job");
        }
        else if (_options.FailureRate > 0 && outcome.Error is null && _random.NextDouble() < _options.FailureRate)
        {
            outcome = MockJobOutcome.Failed("simulated prover failure");
        }

        var latency = kind switch
        {
            MockProofKind.Batch => _options.BatchLatency,
            MockProofKind.Aggregated => _options.AggregateLatency,
            MockProofKind.Final => _options.FinalLatency,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
        // A job that never finishes: PENDING for ten years.
        var work = _options.Misbehaviour == MockProverMisbehaviour.PendingForever ? TimeSpan.FromDays(3650) : Jitter(latency);
        var duration = _options.Speed == 1 ? work : TimeSpan.FromTicks((long)(work.Ticks / _options.Speed));
        var jobId = Guid.NewGuid().ToString();
        string instanceId;
        DateTimeOffset? idleSince;
        lock (_lock)
        {
            instanceId = _instanceId;
            idleSince = _jobs.Add(new MockJob(jobId, kind, duration, now, outcome), now);
        }

        if (_options.RecordTimings)
        {
            lock (_timings)
            {
                _timings.Add(new MockJobTiming(requestId, kind, work, duration, now, idleSince));
            }
        }

        Counters.JobStarted(kind);
        if (kind == MockProofKind.Final && computation is { OldBatch: { } init, NewBatch: { } final })
        {
            Counters.FinalProofRequested(init, final);
            _finalJobs[jobId] = (init, final);
        }

        MockProverLog.JobAccepted(_logger, _options.Name, kind, jobId, computation.OldBatch, computation.NewBatch);
        if (_journal is not null)
        {
            var kindText = kind switch
            {
                MockProofKind.Batch => "batch",
                MockProofKind.Aggregated => "aggregated",
                MockProofKind.Final => "final",
                _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
            };
            await _journal.AppendAsync(new MockJournalEntry(kindText, computation.OldBatch, computation.NewBatch, jobId,
                instanceId, _options.Name, now), cancellationToken).ConfigureAwait(false);
        }

        return jobId;
    }

    /// <summary>A latency with the configured jitter: times a lognormal factor of mean 1 and the jitter as its
    /// coefficient of variation.</summary>
    private TimeSpan Jitter(TimeSpan latency)
    {
        if (_options.LatencyJitter <= 0 || latency <= TimeSpan.Zero)
        {
            return latency;
        }

        var variance = Math.Log(1 + (_options.LatencyJitter * _options.LatencyJitter));
        double normal;
        lock (_random)
        {
            // Box-Muller.
            normal = Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());
        }

        var factor = Math.Exp((-variance / 2) + (Math.Sqrt(variance) * normal));
        return TimeSpan.FromTicks((long)(latency.Ticks * factor));
    }

    /// <summary>GetProof; with a timeout (seconds) and <see cref="MockProverOptions.HonourGetProofTimeout"/>, the answer
    /// waits until the job is over or the timeout has passed.</summary>
    private async ValueTask<GetProofResponse> GetProofAsync(GetProofRequest request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (request.Timeout > 0 && _options.HonourGetProofTimeout)
        {
            var deadline = now + TimeSpan.FromSeconds(Math.Min(request.Timeout, 3600));
            while (_jobs.NextChange(request.Id, now) is { } change && now < deadline)
            {
                // System timers are no finer than whole milliseconds: rounded up so that the job is over when we look again.
                var wait = (change < deadline ? change : deadline) - now;
                if (_time is PreciseTimeProvider precise)
                {
                    await precise.DelayAsync(wait, cancellationToken).ConfigureAwait(false);
                }
                else if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), _time, cancellationToken).ConfigureAwait(false);
                }

                now = _time.GetUtcNow();
            }
        }

        return GetProof(request.Id, now);
    }

    private GetProofResponse GetProof(string jobId, DateTimeOffset now)
    {
        if (jobId.Length == 0)
        {
            Counters.ProtocolViolated();
        }

        var job = _jobs.Find(jobId, now, out var state);
        if (job is null)
        {
            return new GetProofResponse { Id = jobId, Result = GetProofResponse.Types.Result.Error, ResultString = "invalid UUID" };
        }

        var response = new GetProofResponse { Id = jobId };
        switch (state)
        {
            case MockJobState.Queued:
            case MockJobState.Running:
                response.Result = GetProofResponse.Types.Result.Pending;
                response.ResultString = "pending";
                break;
            case MockJobState.Cancelled:
                response.Result = GetProofResponse.Types.Result.Cancel;
                response.ResultString = "cancelled";
                break;
            case MockJobState.Done when job.Outcome.Error is { } error:
                response.Result = GetProofResponse.Types.Result.CompletedError;
                response.ResultString = error;
                break;
            case MockJobState.Done:
                response.Result = GetProofResponse.Types.Result.CompletedOk;
                response.ResultString = "completed";
                if (job.Outcome.FinalProof is { } final)
                {
                    response.FinalProof = final;
                }
                else
                {
                    response.RecursiveProof = job.Outcome.RecursiveProof ?? "";
                }

                break;
            default:
                throw new InvalidOperationException($"unexpected job state {state}");
        }

        return response;
    }

    private GetStatusResponse Status(DateTimeOffset now)
    {
        var snapshot = _jobs.Snapshot(now);
        var status = new GetStatusResponse
        {
            Status = snapshot.CurrentJobId is null
                ? GetStatusResponse.Types.Status.Idle
                : GetStatusResponse.Types.Status.Computing,
            LastComputedRequestId = snapshot.LastComputedJobId,
            LastComputedEndTime = UnixSeconds(snapshot.LastComputedEnd),
            CurrentComputingRequestId = snapshot.CurrentJobId ?? "",
            CurrentComputingStartTime = snapshot.CurrentJobId is null ? 0 : UnixSeconds(snapshot.CurrentStartedAt),
            VersionProto = VersionProto,
            VersionServer = VersionServer,
            ProverName = _options.Name,
            ProverId = InstanceId,
            NumberOfCores = (ulong)Environment.ProcessorCount,
            TotalMemory = _totalMemoryKb,
            FreeMemory = _totalMemoryKb,
            ForkId = _options.ForkId,
        };
        status.PendingRequestQueueIds.AddRange(snapshot.PendingJobIds);
        return status;
    }

    /// <summary>Must be called under <see cref="_lock"/>.</summary>
    private void RestartCore()
    {
        _instanceId = Guid.NewGuid().ToString();
        _jobs.Clear();
        _recreateChannel = true;
        Counters.Restarted();
        MockProverLog.Restarting(_logger, _options.Name, _instanceId);
    }

    private (GrpcChannel Channel, AggregatorService.AggregatorServiceClient Client) CreateClient()
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        if (_options.ClientCertificate is { } client)
        {
            handler.SslOptions.ClientCertificates = [client];
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => client;
        }

        if (_options.ServerCertificateAuthority is { } authority)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                errors == SslPolicyErrors.None || (errors == SslPolicyErrors.RemoteCertificateChainErrors && certificate is not null &&
                                                   ChainsTo(certificate, authority));
        }

        var channel = GrpcChannel.ForAddress(AddressAt(_addressIndex), new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = _options.MaxReceiveMessageSize,
            MaxSendMessageSize = null,
        });
        return (channel, new AggregatorService.AggregatorServiceClient(channel));
    }

    /// <summary>True if <paramref name="certificate"/> chains to <paramref name="authority"/> (or is it).</summary>
    private static bool ChainsTo(X509Certificate certificate, X509Certificate2 authority)
    {
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf);
    }

    private static ulong UnixSeconds(DateTimeOffset time) =>
        time <= DateTimeOffset.UnixEpoch ? 0 : (ulong)time.ToUnixTimeSeconds();
}
