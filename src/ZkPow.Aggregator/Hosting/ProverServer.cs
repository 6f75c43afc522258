using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// The gRPC server provers dial into (Kestrel, HTTP/2; cleartext unless a certificate is configured), with the
/// receive limit raised for multi-megabyte proofs.
/// </summary>
public sealed class ProverServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ProverServer(WebApplication app, int port, bool tls)
    {
        _app = app;
        Port = port;
        Tls = tls;
    }

    /// <summary>The port actually listened on.</summary>
    public int Port { get; }

    /// <summary>Whether provers must dial with TLS.</summary>
    public bool Tls { get; }

    public Uri Address => new($"{(Tls ? "https" : "http")}://127.0.0.1:{Port}");

    public static async Task<ProverServer> StartAsync(ProverServerOptions server, ProverSessionOptions sessions, IProverSessionObserver observer,
        ILoggerFactory loggers, TimeProvider time, CancellationToken cancellationToken)
    {
        server.Validate();
        sessions.Validate();
        var port = server.Port;
        if (port != 0 && server.FallBackToFreePort && !IsFree(server.ListenAddress, port))
        {
            loggers.CreateLogger<ProverServer>().LogWarning("Prover port {Port} is taken; listening on a free port instead", port);
            port = 0;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton(observer);
        builder.Services.AddSingleton(sessions);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(new JobTimings());
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = sessions.MaxReceiveBytes;
            o.MaxSendMessageSize = null;
            o.EnableDetailedErrors = false;
        });
        // The standard gRPC health service (grpc.health.v1) on the prover port, for load balancers and probes.
        builder.Services.AddGrpcHealthChecks();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MinRequestBodyDataRate = null;
            k.Limits.Http2.KeepAlivePingDelay = TimeSpan.FromSeconds(30);
            k.Limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(30);
            k.Listen(IPAddress.Parse(server.ListenAddress), port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (!string.IsNullOrEmpty(server.TlsCertificatePath))
                {
                    listen.UseHttps(server.TlsCertificatePath, server.TlsCertificatePassword);
                }
            });
        });
        var app = builder.Build();
        app.MapGrpcService<AggregatorGrpcService>();
        app.MapGrpcHealthChecksService();
        var bound = await WebHosts.StartAsync(app, cancellationToken).ConfigureAwait(false);
        return new ProverServer(app, bound, !string.IsNullOrEmpty(server.TlsCertificatePath));
    }

    private static bool IsFree(string address, int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Parse(address), port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync() => await WebHosts.StopAsync(_app).ConfigureAwait(false);
}
