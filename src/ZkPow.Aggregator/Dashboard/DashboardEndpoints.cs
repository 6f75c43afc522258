using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace ZkPow.Aggregator.Dashboard;

/// <summary>
/// The dashboard's routes on the operator endpoint: the page at <c>/</c> (and its script and style sheet),
/// <c>GET /api/dashboard</c> (one <see cref="DashboardSnapshot"/>) and <c>GET /api/events</c> (server-sent events: a
/// <c>snapshot</c> event with the same JSON every <see cref="PushInterval"/> until the client leaves or the endpoint stops).
/// </summary>
internal static class DashboardEndpoints
{
    public static readonly TimeSpan PushInterval = TimeSpan.FromSeconds(1);

    /// <summary>Scripts and styles from this endpoint only; no frames, no other origin.</summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static void Map(IEndpointRouteBuilder app, DashboardReader reader, JsonSerializerOptions json, TimeProvider time, CancellationToken stopping)
    {
        app.MapGet("/", (HttpContext context) => Serve(context, "index.html"));
        app.MapGet("/dashboard/{name}", (string name, HttpContext context) => Serve(context, name));
        app.MapGet("/api/dashboard", async (CancellationToken ct) => Results.Json(await reader.ReadAsync(ct).ConfigureAwait(false), json));
        app.MapGet("/api/events", async (HttpContext context) =>
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
            var ct = linked.Token;
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers["X-Accel-Buffering"] = "no";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            try
            {
                await context.Response.WriteAsync("retry: 2000\n\n", ct).ConfigureAwait(false);
                while (!ct.IsCancellationRequested)
                {
                    var snapshot = await reader.ReadAsync(ct).ConfigureAwait(false);
                    var text = new StringBuilder("event: snapshot\ndata: ").Append(JsonSerializer.Serialize(snapshot, json)).Append("\n\n").ToString();
                    await context.Response.WriteAsync(text, ct).ConfigureAwait(false);
                    await context.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                    await Task.Delay(PushInterval, time, ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The page closed, or the endpoint stops: the stream ends.
            }
        });
    }

    private static IResult Serve(HttpContext context, string name)
    {
        if (!DashboardAssets.TryGet(name, out var body, out var contentType))
        {
            return Results.NotFound();
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers.CacheControl = "no-cache";
        headers["Referrer-Policy"] = "no-referrer";
        return Results.Bytes(body, contentType);
    }
}
