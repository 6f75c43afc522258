using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Aggregator.Tests.Hosting;

/// <summary>
/// The operator API guard on a real Kestrel host on loopback, in front of routes it knows nothing about (as routes other
/// parts add later): every non-GET <c>/api/</c> request needs the operator header, a same-site origin and, when a hash is
/// configured, the right bearer token; reads and non-API routes pass untouched.
/// </summary>
public sealed class OperatorApiGuardTests : IAsyncLifetime
{
    private static readonly string s_token = ProverTokens.New();
    private WebApplication _open = null!;
    private WebApplication _locked = null!;
    private HttpClient _openClient = null!;
    private HttpClient _lockedClient = null!;
    private int _actions;

    public async Task InitializeAsync()
    {
        (_open, _openClient) = await StartAsync(new HttpOptions());
        (_locked, _lockedClient) = await StartAsync(new HttpOptions { OperatorTokenHash = ProverTokens.Hash(s_token).ToUpperInvariant() });
    }

    public async Task DisposeAsync()
    {
        _openClient.Dispose();
        _lockedClient.Dispose();
        await _open.DisposeAsync();
        await _locked.DisposeAsync();
    }

    private async Task<(WebApplication App, HttpClient Client)> StartAsync(HttpOptions options)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.UseMiddleware<OperatorApiGuard>(options, (ILogger)NullLogger.Instance);
        app.MapPost("/api/drain", () => Results.Json(new { action = Interlocked.Increment(ref _actions) }));
        app.MapDelete("/api/things/{id}", (int id) => Results.Json(new { deleted = id, action = Interlocked.Increment(ref _actions) }));
        app.MapGet("/api/status", () => Results.Json(new { ok = true }));
        app.MapPost("/hook", () => Results.Text("not the API"));
        await app.StartAsync();
        return (app, new HttpClient { BaseAddress = new Uri(app.Urls.First()) });
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, bool header = true, string? origin = null, string? token = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (header)
        {
            request.Headers.Add(OperatorApiGuard.HeaderName, "1");
        }

        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    private static async Task<(HttpStatusCode Status, string Error)> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var error = response.IsSuccessStatusCode ? "" : JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;
            return (response.StatusCode, error);
        }
    }

    [Fact]
    public async Task a_request_without_the_operator_header_is_refused_with_403_and_does_nothing()
    {
        var (status, error) = await SendAsync(_openClient, Request(HttpMethod.Post, "/api/drain", header: false));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("X-ZkPow-Operator: 1", error, StringComparison.Ordinal);

        var (wrong, _) = await SendAsync(_openClient, new HttpRequestMessage(HttpMethod.Delete, "/api/things/3") { Headers = { { OperatorApiGuard.HeaderName, "yes" } } });
        Assert.Equal(HttpStatusCode.Forbidden, wrong);
        Assert.Equal(0, Volatile.Read(ref _actions));

        var (ok, _) = await SendAsync(_openClient, Request(HttpMethod.Post, "/api/drain"));
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(1, Volatile.Read(ref _actions));
    }

    [Fact]
    public async Task a_cross_site_origin_is_refused_and_the_endpoint_s_own_origin_is_accepted()
    {
        var own = _openClient.BaseAddress!.GetLeftPart(UriPartial.Authority);
        foreach (var origin in new[] { "https://evil.example", "null", own.Replace("http://", "https://", StringComparison.Ordinal), "http://127.0.0.1:1" })
        {
            var (status, error) = await SendAsync(_openClient, Request(HttpMethod.Post, "/api/drain", origin: origin));
            Assert.Equal(HttpStatusCode.Forbidden, status);
            Assert.Contains("cross-site", error, StringComparison.Ordinal);
        }

        Assert.Equal(0, Volatile.Read(ref _actions));
        var (same, _) = await SendAsync(_openClient, Request(HttpMethod.Post, "/api/drain", origin: own));
        Assert.Equal(HttpStatusCode.OK, same);
    }

    [Fact]
    public async Task with_a_token_hash_a_missing_token_gets_401_a_wrong_one_403_and_the_right_one_passes()
    {
        var (missing, missingError) = await SendAsync(_lockedClient, Request(HttpMethod.Post, "/api/drain"));
        Assert.Equal(HttpStatusCode.Unauthorized, missing);
        Assert.Contains("operator token", missingError, StringComparison.Ordinal);

        var (wrong, wrongError) = await SendAsync(_lockedClient, Request(HttpMethod.Delete, "/api/things/5", token: ProverTokens.New()));
        Assert.Equal(HttpStatusCode.Forbidden, wrong);
        Assert.Contains("wrong", wrongError, StringComparison.Ordinal);

        var (noHeader, _) = await SendAsync(_lockedClient, Request(HttpMethod.Post, "/api/drain", header: false, token: s_token));
        Assert.Equal(HttpStatusCode.Forbidden, noHeader);
        Assert.Equal(0, Volatile.Read(ref _actions));

        var (right, _) = await SendAsync(_lockedClient, Request(HttpMethod.Delete, "/api/things/5", token: s_token));
        Assert.Equal(HttpStatusCode.OK, right);
        Assert.Equal(1, Volatile.Read(ref _actions));
    }

    [Fact]
    public async Task a_401_names_the_bearer_scheme()
    {
        using var response = await _lockedClient.SendAsync(Request(HttpMethod.Post, "/api/drain"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task reads_and_routes_outside_the_api_are_not_guarded()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(_lockedClient, Request(HttpMethod.Get, "/api/status", header: false, origin: "https://evil.example"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(_lockedClient, Request(HttpMethod.Post, "/hook", header: false))).Status);
    }

    [Fact]
    public async Task without_a_token_a_request_must_name_the_endpoint_by_address()
    {
        // A page on another domain whose name was re-pointed at this machine sends its own name as Host.
        var request = Request(HttpMethod.Post, "/api/drain");
        request.Headers.Host = "rebound.example";
        var (status, error) = await SendAsync(_openClient, request);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("rebound.example", error, StringComparison.Ordinal);

        var local = Request(HttpMethod.Post, "/api/drain");
        local.Headers.Host = $"localhost:{_openClient.BaseAddress!.Port}";
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(_openClient, local)).Status);

        // With a token the name does not matter: the token is the proof.
        var named = Request(HttpMethod.Post, "/api/drain", token: s_token);
        named.Headers.Host = "aggregator.internal";
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(_lockedClient, named)).Status);
    }

    [Theory]
    [InlineData("0.0.0.0", null, false, "Http:ListenAddress")]
    [InlineData("192.168.1.20", null, false, "Http:ListenAddress")]
    [InlineData("::", null, false, "Http:ListenAddress")]
    [InlineData("127.0.0.1", "abc", false, "Http:OperatorTokenHash")]
    public void binding_beyond_loopback_without_a_token_hash_is_refused(string address, string? hash, bool allow, string key)
    {
        var options = new HttpOptions { ListenAddress = address, OperatorTokenHash = hash, AllowUnauthenticated = allow };
        var ex = Assert.Throws<OptionsException>(options.Validate);
        Assert.Equal(key, ex.Key);
    }

    [Theory]
    [InlineData("127.0.0.1", false, false)]
    [InlineData("::1", false, false)]
    [InlineData("0.0.0.0", true, false)]
    [InlineData("0.0.0.0", false, true)]
    public void loopback_a_token_hash_or_allow_unauthenticated_is_accepted(string address, bool withHash, bool allow)
    {
        var options = new HttpOptions { ListenAddress = address, OperatorTokenHash = withHash ? ProverTokens.Hash(s_token) : null, AllowUnauthenticated = allow };
        options.Validate();
        Assert.Equal(withHash, options.RequiresToken);
    }
}
