using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Aggregator.Tests.Protocol;

public sealed class ProverTlsTests
{
    [Fact]
    public async Task with_a_certificate_configured_provers_dial_in_over_tls_and_cleartext_is_refused()
    {
        using var dir = new TempDir();
        var pfx = dir.File("prover.pfx");
        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "secret"));
        }

        await using var harness = await SessionHarness.StartAsync(server: new ProverServerOptions
        {
            Port = 0,
            TlsCertificatePath = pfx,
            TlsCertificatePassword = "secret",
        });
        Assert.Equal("https", harness.Address.Scheme);

        var trusting = new SocketsHttpHandler();
        trusting.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.Subject == "CN=localhost";
        await using (var tls = new ScriptedProver(harness.Address, ScriptedProver.WellBehaved("tls-prover", "t1"), trusting))
        {
            var session = await harness.NextSessionAsync();
            Assert.Equal("tls-prover", session.Name);
        }

        var cleartext = new UriBuilder(harness.Address) { Scheme = "http" }.Uri;
        await using var plain = new ScriptedProver(cleartext, ScriptedProver.WellBehaved("plain", "p1"));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!plain.StreamEnded && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.True(plain.StreamEnded);
        Assert.False(harness.TryNextSession(out _));
    }
}
