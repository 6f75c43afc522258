using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ZkPow.Devnet.Tests.Prover;

/// <summary>A minimal aggregator-side gRPC server on loopback (cleartext HTTP/2) whose streams the test drives.</summary>
internal sealed class TestAggregatorServer : IAsyncDisposable
{
    private readonly Channel<TestProverStream> _streams = System.Threading.Channels.Channel.CreateUnbounded<TestProverStream>();
    private WebApplication? _app;

    public Uri Address { get; private set; } = null!;

    public static async Task<TestAggregatorServer> StartAsync(int port = 0)
    {
        var server = new TestAggregatorServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = null);
        builder.Services.AddSingleton(server);
        var app = builder.Build();
        app.MapGrpcService<TestAggregatorService>();
        await app.StartAsync();
        server._app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Address = new Uri(address);
        return server;
    }

    /// <summary>The next prover stream to arrive (by default within 30 s: a prover's first connection in a cold test
    /// process, beside other tests starting, has taken more than 5 s on a loaded machine).</summary>
    public async Task<TestProverStream> AcceptAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        return await _streams.Reader.ReadAsync(cts.Token);
    }

    /// <summary>A stream if one is already waiting.</summary>
    public bool TryAccept(out TestProverStream? stream) => _streams.Reader.TryRead(out stream);

    internal void Publish(TestProverStream stream) => _streams.Writer.TryWrite(stream);

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _app.StopAsync(cts.Token);
            await _app.DisposeAsync();
        }
    }
}
