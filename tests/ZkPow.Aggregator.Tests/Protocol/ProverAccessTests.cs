using System.Net;
using System.Security.Cryptography;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Protocol;
using Kind = ZkPow.Aggregator.Protocol.AggregatorMessage.RequestOneofCase;

namespace ZkPow.Aggregator.Tests.Protocol;

/// <summary>Who may open a prover stream, over real gRPC on loopback: nobody refused ever receives a request.</summary>
public sealed class ProverAccessTests
{
    private static readonly IPAddress Other = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task a_connection_from_outside_the_allow_list_gets_no_request_while_the_health_service_answers_it()
    {
        await using var harness = await SessionHarness.StartAsync(server: new ProverServerOptions { Port = 0, Allow = ["127.0.0.1/32"] });

        await using (var outsider = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("outsider", "o1"), ScriptedProver.From(Other)))
        {
            await WaitUntil(() => outsider.StreamEnded);
            Assert.Equal(StatusCode.PermissionDenied, outsider.EndStatus);
            Assert.Empty(outsider.Received);
        }

        using (var channel = GrpcChannel.ForAddress(harness.Address, new GrpcChannelOptions { HttpHandler = ScriptedProver.From(Other) }))
        {
            var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        }

        Assert.False(harness.TryNextSession(out _));
        await using var insider = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("insider", "i1"), ScriptedProver.From(IPAddress.Loopback));
        var session = await harness.NextSessionAsync();
        Assert.Equal("insider", session.Name);
        Assert.Equal("addr:127.0.0.1", session.Principal);
    }

    [Fact]
    public async Task a_client_certificate_from_the_configured_ca_is_served_and_none_or_another_is_refused()
    {
        using var dir = new TempDir();
        using var ca = TestCertificates.Ca();
        var caFile = dir.File("ca.pem");
        await File.WriteAllTextAsync(caFile, ca.ExportCertificatePem());
        using var issued = TestCertificates.Client("rig-1", ca);
        using var stranger = TestCertificates.Client("stranger", TestCertificates.Ca("CN=another CA"));
        using var selfSigned = TestCertificates.Client("self");
        await using var harness = await SessionHarness.StartAsync(server: new ProverServerOptions
        {
            Port = 0,
            TlsCertificatePath = TestCertificates.ServerPfx(dir),
            TlsCertificatePassword = "secret",
            ClientCaFile = caFile,
        });

        foreach (var (certificate, name) in new[] { (null, "none"), (stranger, "stranger"), (selfSigned, "self") })
        {
            await using var refused = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved(name, name), TestCertificates.Handler(certificate));
            await WaitUntil(() => refused.StreamEnded);
            Assert.Empty(refused.Received);
        }

        Assert.False(harness.TryNextSession(out _));
        await using var served = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("rig-1", "r1"), TestCertificates.Handler(issued));
        var session = await harness.NextSessionAsync();
        Assert.Equal("rig-1", session.Name);
        Assert.Equal($"cert:{issued.GetCertHashString(HashAlgorithmName.SHA256)}", session.Principal);
    }

    [Fact]
    public async Task a_tls_sidecar_without_alpn_carrying_cleartext_http2_is_served_with_its_client_certificate()
    {
        // What stunnel in client mode does: TLS with a client certificate and no ALPN, the prover's h2c inside.
        using var dir = new TempDir();
        using var ca = TestCertificates.Ca();
        var caFile = dir.File("ca.pem");
        await File.WriteAllTextAsync(caFile, ca.ExportCertificatePem());
        using var issued = TestCertificates.Client("rig-2", ca);
        await using var harness = await SessionHarness.StartAsync(server: new ProverServerOptions
        {
            Port = 0,
            TlsCertificatePath = TestCertificates.ServerPfx(dir),
            TlsCertificatePassword = "secret",
            ClientCaFile = caFile,
        });
        var inside = new UriBuilder(harness.Address) { Scheme = "http" }.Uri;

        await using (var anonymous = new ScriptedProver(inside, ScriptedProver.WellBehaved("anon", "a"), TestCertificates.SidecarHandler(null)))
        {
            await WaitUntil(() => anonymous.StreamEnded);
            Assert.True(StatusCode.PermissionDenied == anonymous.EndStatus, anonymous.EndDetail);
            Assert.Empty(anonymous.Received);
        }

        await using var sidecar = new ScriptedProver(inside, ScriptedProver.WellBehaved("rig-2", "r2"), TestCertificates.SidecarHandler(issued));
        var session = await harness.NextSessionAsync();
        Assert.Equal("rig-2", session.Name);
        Assert.StartsWith("cert:", session.Principal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_pinned_client_certificate_is_served_and_an_unpinned_one_is_refused()
    {
        using var dir = new TempDir();
        using var pinned = TestCertificates.Client("pinned");
        using var other = TestCertificates.Client("other");
        var thumbprint = string.Join(':', Convert.ToHexString(SHA256.HashData(pinned.RawData)).Chunk(2).Select(c => new string(c)));
        await using var harness = await SessionHarness.StartAsync(server: new ProverServerOptions
        {
            Port = 0,
            TlsCertificatePath = TestCertificates.ServerPfx(dir),
            TlsCertificatePassword = "secret",
            ClientCertThumbprints = [thumbprint.ToLowerInvariant()],
        });

        await using (var refused = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("other", "o"), TestCertificates.Handler(other)))
        {
            await WaitUntil(() => refused.StreamEnded);
            Assert.Empty(refused.Received);
        }

        await using var served = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("pinned", "p"), TestCertificates.Handler(pinned));
        Assert.Equal("pinned", (await harness.NextSessionAsync()).Name);
    }

    [Fact]
    public async Task a_valid_token_is_served_and_a_wrong_or_missing_one_is_refused()
    {
        var token = ProverTokens.New();
        await using var harness = await SessionHarness.StartAsync(server: new ProverServerOptions
        {
            Port = 0,
            Tokens = [new ProverToken { Name = "rig-7", Sha256 = ProverTokens.Hash(token) }],
        });

        foreach (var headers in new[] { null, Bearer(token + "x"), Bearer(ProverTokens.Hash(token)), new Metadata { { "authorization", token } } })
        {
            await using var refused = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("thief", "t"), headers: headers);
            await WaitUntil(() => refused.StreamEnded);
            Assert.Equal(StatusCode.PermissionDenied, refused.EndStatus);
            Assert.Empty(refused.Received);
        }

        Assert.False(harness.TryNextSession(out _));
        await using var served = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("rig-7", "r7"), headers: Bearer(token));
        var session = await harness.NextSessionAsync();
        Assert.Equal("token:rig-7", session.Principal);
        Assert.NotEmpty(served.Requests(Kind.GetStatusRequest));
    }

    [Fact]
    public async Task a_principal_over_its_session_cap_gets_no_request()
    {
        await using var harness = await SessionHarness.StartAsync(server: new ProverServerOptions { Port = 0, MaxSessionsPerPrincipal = 2 });
        await using var first = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("a", "1"));
        await using var second = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("b", "2"));
        await harness.NextSessionAsync();
        await harness.NextSessionAsync();

        await using var third = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("c", "3"));
        await WaitUntil(() => third.StreamEnded);
        Assert.Equal(StatusCode.ResourceExhausted, third.EndStatus);
        Assert.Empty(third.Received);

        // Another principal (another address) is not counted against it.
        await using var elsewhere = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("d", "4"), ScriptedProver.From(Other));
        Assert.Equal("d", (await harness.NextSessionAsync()).Name);
    }

    [Fact]
    public async Task a_connection_that_does_not_answer_the_first_status_request_is_closed_after_the_handshake_timeout()
    {
        await using var harness = await SessionHarness.StartAsync(o =>
        {
            o.ResponseTimeout = TimeSpan.FromMinutes(10);
            o.HandshakeTimeout = TimeSpan.FromMilliseconds(500);
        });
        await using var silent = new ScriptedProver(harness.Address, _ => null);
        await WaitUntil(() => silent.StreamEnded, 30_000);
        Assert.Single(silent.Received);
        Assert.False(harness.TryNextSession(out _));
    }

    [Fact]
    public async Task an_oversized_message_ends_only_its_own_stream()
    {
        await using var harness = await SessionHarness.StartAsync(o => o.MaxReceiveBytes = 64 * 1024);
        await using var honest = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("honest", "h"));
        var session = await harness.NextSessionAsync();

        await using var flooder = new ScriptedProver(harness.Address, request =>
        {
            var status = ScriptedProver.Status(request, "big", "b");
            status.GetStatusResponse.VersionServer = new string('x', 128 * 1024);
            return status;
        });
        await WaitUntil(() => flooder.StreamEnded);
        Assert.False(harness.TryNextSession(out _));

        Assert.False(session.IsClosed);
        var status = await session.RefreshStatusAsync(CancellationToken.None);
        Assert.Equal("honest", status.ProverName);
    }

    [Fact]
    public async Task a_name_or_id_over_the_length_cap_is_refused()
    {
        await using var harness = await SessionHarness.StartAsync();
        await using var longName = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved(new string('n', 129), "i"));
        await using var longId = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("n", new string('i', 129)));
        await WaitUntil(() => longName.StreamEnded && longId.StreamEnded);
        Assert.False(harness.TryNextSession(out _));
        Assert.Empty(longName.Requests(Kind.GenBatchProofRequest));

        await using var fine = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved(new string('n', 128), new string('i', 128)));
        Assert.Equal(128, (await harness.NextSessionAsync()).Name.Length);
    }

    [Fact]
    public async Task a_prover_sending_messages_nobody_asked_for_is_closed_and_others_keep_working()
    {
        await using var harness = await SessionHarness.StartAsync();
        await using var honest = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("honest", "h"));
        var session = await harness.NextSessionAsync();
        var answered = 0;
        await using var chatty = new ScriptedProver(harness.Address, request =>
            Interlocked.Increment(ref answered) == 1 ? ScriptedProver.Status(request, "chatty", "c") : null);
        var chattySession = await harness.NextSessionAsync();
        for (var i = 0; i < 200 && !chattySession.IsClosed; i++)
        {
            try
            {
                await chatty.SendAsync(new ProverMessage { Id = $"unasked-{i}", GetStatusResponse = new GetStatusResponse() });
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException)
            {
                // The stream is closing, or the script's own write is still in progress.
                await Task.Delay(20);
            }
        }

        await WaitUntil(() => chattySession.IsClosed);
        Assert.False(session.IsClosed);
        Assert.Equal("honest", (await session.RefreshStatusAsync(CancellationToken.None)).ProverName);
    }

    [Theory]
    [InlineData("0.0.0.0/0")]
    [InlineData("::/0")]
    public void an_allow_list_admitting_any_address_without_authentication_is_refused_at_start(string any)
    {
        var error = Assert.Throws<OptionsException>(() => Bind(("Provers:Allow:0", "127.0.0.1"), ("Provers:Allow:1", any)));
        Assert.Equal("Provers:Allow", error.Key);

        var unauthenticated = Bind(("Provers:Allow", $"10.0.0.0/8, {any}"), ("Provers:AllowUnauthenticated", "true"));
        Assert.Equal(["10.0.0.0/8", any], unauthenticated.ProverServer.Allow);

        var withToken = Bind(("Provers:Allow:0", any), ("Provers:Tokens:0:Name", "rig-1"), ("Provers:Tokens:0:Sha256", ProverTokens.Hash("t")));
        Assert.Equal("rig-1", Assert.Single(withToken.ProverServer.Tokens).Name);
    }

    [Fact]
    public async Task the_server_refuses_to_start_with_an_open_allow_list_and_no_authentication()
    {
        var error = await Assert.ThrowsAsync<OptionsException>(() => SessionHarness.StartAsync(server: new ProverServerOptions
        {
            Port = 0,
            ListenAddress = "0.0.0.0",
            Allow = ["0.0.0.0/0"],
        }));
        Assert.Equal("Provers:Allow", error.Key);
    }

    [Theory]
    [InlineData("Provers:Allow:0", "10.0.0.1/8")]
    [InlineData("Provers:Allow:0", "not-a-network")]
    [InlineData("Provers:Tokens:0:Name", "has space")]
    [InlineData("Provers:ClientCertThumbprints:0", "abcd")]
    public void bad_access_settings_are_refused_naming_the_key(string key, string value)
    {
        var extra = key.StartsWith("Provers:Tokens", StringComparison.Ordinal) ? ("Provers:Tokens:0:Sha256", ProverTokens.Hash("t")) : ("Provers:Port", "50081");
        var error = Assert.Throws<OptionsException>(() => Bind((key, value), extra));
        Assert.StartsWith(string.Join(':', key.Split(':').Take(2)), error.Key);
    }

    private static Metadata Bearer(string token) => new() { { "authorization", $"Bearer {token}" } };

    private static AggregatorOptions Bind(params (string Key, string Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build();
        var options = OptionsBinder.BindUnvalidated(configuration);
        options.ProverServer.Validate();
        return options;
    }

    private static async Task WaitUntil(Func<bool> condition, int timeoutMs = 15_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(20);
        }
    }
}
