using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Aggregator.Tests.Protocol;

/// <summary>A real prover gRPC server on loopback whose observer hands the test every session.</summary>
internal sealed class SessionHarness : IProverSessionObserver, IAsyncDisposable
{
    private readonly Channel<ProverSession> _connected = Channel.CreateUnbounded<ProverSession>();
    private readonly Channel<(ProverSession, string)> _disconnected = Channel.CreateUnbounded<(ProverSession, string)>();
    private ProverServer? _server;

    public ProverSessionOptions Options { get; } = new();

    public Uri Address => _server!.Address;

    public JobTimings Timings => _server!.Timings;

    public static async Task<SessionHarness> StartAsync(Action<ProverSessionOptions>? configure = null, ILoggerFactory? loggers = null,
        ProverServerOptions? server = null)
    {
        var harness = new SessionHarness();
        configure?.Invoke(harness.Options);
        harness._server = await ProverServer.StartAsync(server ?? new ProverServerOptions { Port = 0 }, harness.Options, harness,
            loggers ?? NullLoggerFactory.Instance, TimeProvider.System, CancellationToken.None);
        return harness;
    }

    public void OnConnected(ProverSession session) => _connected.Writer.TryWrite(session);

    public void OnDisconnected(ProverSession session, string reason) => _disconnected.Writer.TryWrite((session, reason));

    public async Task<ProverSession> NextSessionAsync(TimeSpan? timeout = null) =>
        await _connected.Reader.ReadAsync().AsTask().WaitAsync(timeout ?? TimeSpan.FromSeconds(10));

    public async Task<(ProverSession Session, string Reason)> NextDisconnectAsync(TimeSpan? timeout = null) =>
        await _disconnected.Reader.ReadAsync().AsTask().WaitAsync(timeout ?? TimeSpan.FromSeconds(10));

    public bool TryNextSession(out ProverSession? session) => _connected.Reader.TryRead(out session);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
