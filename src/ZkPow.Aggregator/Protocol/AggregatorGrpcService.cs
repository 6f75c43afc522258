using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Aggregator.Protocol;

/// <summary>
/// The gRPC endpoint provers dial: every admitted <c>Channel</c> call becomes one <see cref="ProverSession"/>. A call
/// is admitted (before any request is sent on it) when <see cref="ProverAccess"/> names its principal and that
/// principal holds fewer than <c>Provers:MaxSessionsPerPrincipal</c> sessions.
/// </summary>
public sealed partial class AggregatorGrpcService(
    IProverSessionObserver observer,
    ProverSessionOptions options,
    ProverAccess access,
    PrincipalSessions principals,
    ILoggerFactory loggers,
    TimeProvider time,
    JobTimings timings,
    IHostApplicationLifetime lifetime) : AggregatorService.AggregatorServiceBase
{
    private readonly ILogger _logger = loggers.CreateLogger<ProverSession>();

    public override async Task Channel(IAsyncStreamReader<ProverMessage> requestStream, IServerStreamWriter<AggregatorMessage> responseStream,
        ServerCallContext context)
    {
        var http = context.GetHttpContext();
        var peer = context.Peer ?? "unknown";
        var decision = access.Check(http.Connection.RemoteIpAddress, http.Connection.ClientCertificate,
            context.RequestHeaders.GetValue("authorization"));
        if (decision.Principal is not { } principal)
        {
            LogRefused(peer, decision.Refusal ?? "refused");
            throw new RpcException(new Status(StatusCode.PermissionDenied, "not allowed to open a prover stream"));
        }

        if (!principals.TryEnter(principal))
        {
            LogTooManySessions(peer, principal, principals.MaxPerPrincipal);
            throw new RpcException(new Status(StatusCode.ResourceExhausted, "too many prover sessions for this principal"));
        }

        try
        {
            // Two scopes: this stream (the call) and the whole server (shutdown ends every session at once).
            using var scope = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
            var session = new ProverSession(requestStream, responseStream, peer, options, _logger, time, timings, principal);
            await session.RunAsync(observer, scope.Token).ConfigureAwait(false);
        }
        finally
        {
            principals.Leave(principal);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a prover stream from {Peer}: {Reason}")]
    private partial void LogRefused(string peer, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a prover stream from {Peer}: principal {Principal} already holds {Max} sessions (Provers:MaxSessionsPerPrincipal)")]
    private partial void LogTooManySessions(string peer, string principal, int max);
}
