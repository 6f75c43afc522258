using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// The gRPC server provers dial into (Kestrel, HTTP/2; cleartext unless a certificate is configured), with the
/// receive limit raised for multi-megabyte proofs. Every prover stream passes <see cref="ProverAccess"/> (allow-list,
/// client certificate, token) before any request is sent on it; the gRPC health service on the same port is open to all.
/// Connections are limited in number, to one stream each, and must start within the handshake timeout.
/// </summary>
public sealed partial class ProverServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ProverServer(WebApplication app, int port, bool tls, JobTimings timings)
    {
        _app = app;
        Timings = timings;
        Port = port;
        Tls = tls;
    }

    /// <summary>The port actually listened on.</summary>
    public int Port { get; }

    /// <summary>The job durations learned from the provers (shared by their sessions).</summary>
    public JobTimings Timings { get; }

    /// <summary>Whether provers must dial with TLS.</summary>
    public bool Tls { get; }

    public Uri Address => new($"{(Tls ? "https" : "http")}://127.0.0.1:{Port}");

    public static Task<ProverServer> StartAsync(ProverServerOptions server, ProverSessionOptions sessions, IProverSessionObserver observer,
        ILoggerFactory loggers, TimeProvider time, CancellationToken cancellationToken) =>
        StartAsync(server, sessions, observer, loggers, time, serving: null, cancellationToken);

    /// <summary>Starts the server; its gRPC health service answers SERVING while <paramref name="serving"/> says so
    /// (always, if null).</summary>
    public static async Task<ProverServer> StartAsync(ProverServerOptions server, ProverSessionOptions sessions, IProverSessionObserver observer,
        ILoggerFactory loggers, TimeProvider time, Func<CancellationToken, Task<bool>>? serving, CancellationToken cancellationToken)
    {
        server.Validate();
        sessions.Validate();
        var logger = loggers.CreateLogger<ProverServer>();
        if (server.AllowsAnyAddress && !server.Authenticates)
        {
            LogUnauthenticated(logger, string.Join(", ", server.Allow));
        }

        var tls = !string.IsNullOrEmpty(server.TlsCertificatePath);
        if (server.Tokens.Count > 0 && !tls)
        {
            LogTokensInCleartext(logger);
        }

        var access = new ProverAccess(server);
        var port = server.Port;
        if (port != 0 && server.FallBackToFreePort && !IsFree(server.ListenAddress, port))
        {
            LogPortTaken(logger, port);
            port = 0;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton(observer);
        builder.Services.AddSingleton(sessions);
        builder.Services.AddSingleton(time);
        var timings = new JobTimings();
        builder.Services.AddSingleton(timings);
        builder.Services.AddSingleton(access);
        builder.Services.AddSingleton(new PrincipalSessions(server.MaxSessionsPerPrincipal));
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = sessions.MaxReceiveBytes;
            o.MaxSendMessageSize = null;
            o.EnableDetailedErrors = false;
        });
        // The standard gRPC health service (grpc.health.v1) on the prover port, for load balancers and probes. It
        // answers every caller (the access checks guard the prover stream only), from the aggregator's own health
        // checks run on each call: NOT_SERVING while they say unhealthy (a node unreachable past its grace, the sync
        // lagging, the lease sweeper failing, start-up or shutdown).
        var check = new ServingHealthCheck(serving ?? (_ => Task.FromResult(true)));
        builder.Services.AddGrpcHealthChecks().AddCheck("aggregator", check);
        builder.WebHost.ConfigureKestrel(k =>
        {
            // Honest streams idle between heartbeats: no minimum data rate.
            k.Limits.MinRequestBodyDataRate = null;
            k.Limits.MinResponseDataRate = null;
            k.Limits.MaxConcurrentConnections = server.MaxConnections;
            // A prover behind a TLS sidecar sends :scheme http on what is, to us, a TLS connection.
            k.AllowAlternateSchemes = true;
            k.Limits.Http2.MaxStreamsPerConnection = 1;
            k.Limits.RequestHeadersTimeout = sessions.HandshakeTimeout;
            k.Limits.Http2.KeepAlivePingDelay = TimeSpan.FromSeconds(30);
            k.Limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(30);
            k.Listen(IPAddress.Parse(server.ListenAddress), port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (tls)
                {
                    listen.UseHttps(https =>
                    {
                        https.ServerCertificate = X509CertificateLoader.LoadPkcs12FromFile(server.TlsCertificatePath!, server.TlsCertificatePassword);
                        https.HandshakeTimeout = sessions.HandshakeTimeout;
                        if (access.ClientCertificates)
                        {
                            // Allowed, not required: a connection without one still reaches the health service.
                            https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                            https.ClientCertificateValidation = access.ValidateClientCertificate;
                        }
                    });

                    // TLS sidecars such as stunnel carry the prover's cleartext HTTP/2 inside TLS without ALPN: on
                    // this HTTP/2-only endpoint, a TLS connection that negotiated no protocol speaks HTTP/2 (the
                    // HTTP/2 preface is still checked).
                    listen.Use(next => connection =>
                    {
                        if (connection.Features.Get<ITlsApplicationProtocolFeature>() is not { ApplicationProtocol.IsEmpty: false })
                        {
                            connection.Features.Set<ITlsApplicationProtocolFeature>(Http2WithoutAlpn.Instance);
                        }

                        return next(connection);
                    });
                }
            });
        });
        var app = builder.Build();
        app.MapGrpcService<AggregatorGrpcService>();
        app.MapGrpcHealthChecksService();
        var bound = await WebHosts.StartAsync(app, cancellationToken).ConfigureAwait(false);
        observer.OnListening();
        return new ProverServer(app, bound, tls, timings);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Prover port {Port} is taken; listening on a free port instead")]
    private static partial void LogPortTaken(ILogger logger, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Provers:Allow ({Allow}) admits any address and no client certificates or tokens are configured " +
        "(Provers:AllowUnauthenticated=true): anyone who reaches the prover port is treated as a prover")]
    private static partial void LogUnauthenticated(ILogger logger, string allow);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Prover tokens are configured but the prover port is cleartext: tokens can be read on the network; " +
        "set Provers:TlsCertificatePath (or put a TLS sidecar in front)")]
    private static partial void LogTokensInCleartext(ILogger logger);

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
