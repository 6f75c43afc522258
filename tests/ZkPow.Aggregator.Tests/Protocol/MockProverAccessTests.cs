using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ZkPow.Aggregator.Hosting;
using ZkPow.Devnet.Prover;

namespace ZkPow.Aggregator.Tests.Protocol;

/// <summary>The mock prover dials an aggregator that demands a token or a client certificate, over real gRPC on loopback.</summary>
public sealed class MockProverAccessTests
{
    [Fact]
    public async Task a_mock_prover_with_a_valid_token_is_served_and_one_with_a_wrong_or_no_token_is_refused()
    {
        var token = ProverTokens.New();
        await using var harness = await SessionHarness.StartAsync(server: new ProverServerOptions
        {
            Port = 0,
            Tokens = [new ProverToken { Name = "rig-7", Sha256 = ProverTokens.Hash(token) }],
        });

        foreach (var (name, sent) in new[] { ("wrong", ProverTokens.New()), ("none", (string?)null) })
        {
            await using var refused = new MockProver(new MockProverOptions
            {
                Aggregator = harness.Address,
                Name = name,
                BearerToken = sent,
                ReconnectDelay = TimeSpan.FromMilliseconds(50),
            });
            using var stop = new CancellationTokenSource();
            var run = refused.RunAsync(stop.Token);
            await WaitUntil(() => refused.Counters.ConnectionAttempts >= 3, $"{name}: three connection attempts");
            await stop.CancelAsync();
            await run;
            Assert.Equal(0, refused.Counters.Connections); // never heard from the aggregator: no request
        }

        Assert.False(harness.TryNextSession(out _));
        await using var served = new MockProver(new MockProverOptions { Aggregator = harness.Address, Name = "rig-7-gpu", BearerToken = token });
        using var stopServed = new CancellationTokenSource();
        var serving = served.RunAsync(stopServed.Token);
        var session = await harness.NextSessionAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("rig-7-gpu", session.Name);
        Assert.Equal("token:rig-7", session.Principal);
        await stopServed.CancelAsync();
        await serving;
    }

    [Fact]
    public async Task a_mock_prover_with_a_client_certificate_from_the_configured_ca_is_served_over_tls_and_one_without_is_refused()
    {
        using var dir = new TempDir();
        using var ca = TestCertificates.Ca();
        var caFile = dir.File("ca.pem");
        await File.WriteAllTextAsync(caFile, ca.ExportCertificatePem());
        using var issued = TestCertificates.Client("rig-3", ca);
        var pfx = TestCertificates.ServerPfx(dir);
        using var serverWithKey = X509CertificateLoader.LoadPkcs12FromFile(pfx, "secret");
        using var server = X509CertificateLoader.LoadCertificate(serverWithKey.RawData);
        await using var harness = await SessionHarness.StartAsync(server: new ProverServerOptions
        {
            Port = 0,
            TlsCertificatePath = pfx,
            TlsCertificatePassword = "secret",
            ClientCaFile = caFile,
        });
        Assert.Equal("https", harness.Address.Scheme);

        await using (var anonymous = new MockProver(new MockProverOptions
        {
            Aggregator = harness.Address,
            Name = "anonymous",
            ServerCertificateAuthority = server,
            ReconnectDelay = TimeSpan.FromMilliseconds(50),
        }))
        {
            using var stop = new CancellationTokenSource();
            var run = anonymous.RunAsync(stop.Token);
            await WaitUntil(() => anonymous.Counters.ConnectionAttempts >= 3, "three connection attempts without a certificate");
            await stop.CancelAsync();
            await run;
            Assert.Equal(0, anonymous.Counters.Connections);
        }

        Assert.False(harness.TryNextSession(out _));
        await using var served = new MockProver(new MockProverOptions
        {
            Aggregator = harness.Address,
            Name = "rig-3-gpu",
            ClientCertificate = issued,
            ServerCertificateAuthority = server,
        });
        using var stopServed = new CancellationTokenSource();
        var serving = served.RunAsync(stopServed.Token);
        var session = await harness.NextSessionAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("rig-3-gpu", session.Name);
        Assert.Equal($"cert:{issued.GetCertHashString(HashAlgorithmName.SHA256)}", session.Principal);
        await stopServed.CancelAsync();
        await serving;
    }

    [Fact]
    public void client_certificates_need_tls_and_their_key()
    {
        using var issued = TestCertificates.Client("rig");
        using var publicOnly = X509CertificateLoader.LoadCertificate(issued.RawData);
        Assert.Throws<ArgumentException>(() => new MockProverOptions { Aggregator = new Uri("http://127.0.0.1:1"), ClientCertificate = issued }.Validate());
        Assert.Throws<ArgumentException>(() => new MockProverOptions { Aggregator = new Uri("https://127.0.0.1:1"), ClientCertificate = publicOnly }.Validate());
        Assert.Throws<ArgumentException>(() => new MockProverOptions { BearerToken = "two words" }.Validate());
        new MockProverOptions { Aggregator = new Uri("https://127.0.0.1:1"), ClientCertificate = issued, BearerToken = "zkpt_x" }.Validate();
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }
}
