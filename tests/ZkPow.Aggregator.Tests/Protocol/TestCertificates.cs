using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ZkPow.Aggregator.Tests.Protocol;

/// <summary>Certificates made on the fly: the server's, a CA and client certificates (issued by the CA or self-signed).</summary>
internal static class TestCertificates
{
    /// <summary>Writes a self-signed server certificate for localhost/127.0.0.1 as a PFX protected by <c>secret</c>.</summary>
    public static string ServerPfx(TempDir dir)
    {
        var pfx = dir.File("prover.pfx");
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pfx, "secret"));
        return pfx;
    }

    /// <summary>A CA certificate with its key.</summary>
    public static X509Certificate2 Ca(string name = "CN=test provers CA")
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest(name, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>A client certificate with its key, issued by <paramref name="issuer"/> or self-signed.</summary>
    public static X509Certificate2 Client(string name, X509Certificate2? issuer = null)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var notBefore = DateTimeOffset.UtcNow.AddDays(-1);
        var notAfter = DateTimeOffset.UtcNow.AddDays(10);
        using var certificate = issuer is null
            ? request.CreateSelfSigned(notBefore, notAfter)
            : request.Create(issuer, notBefore, notAfter, RandomNumberGenerator.GetBytes(8)).CopyWithPrivateKey(rsa);
        // Through a PFX, so the key is usable by the TLS stack.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    /// <summary>A handler that behaves like a TLS sidecar (stunnel): it opens TLS itself, without ALPN, presenting
    /// <paramref name="client"/> (if any), and speaks cleartext HTTP/2 inside (use an <c>http://</c> address).</summary>
    public static SocketsHttpHandler SidecarHandler(X509Certificate2? client) => new()
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            SslStream? tls = null;
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = "localhost",
                    ClientCertificates = client is null ? null : [client],
                    LocalCertificateSelectionCallback = client is null ? null : (_, _, _, _, _) => client,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.Subject == "CN=localhost",
                }, cancellationToken);
                return tls;
            }
            catch
            {
                if (tls is not null)
                {
                    await tls.DisposeAsync();
                }

                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>A handler that trusts the test server and presents <paramref name="client"/> (if any).</summary>
    public static SocketsHttpHandler Handler(X509Certificate2? client = null)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.Subject == "CN=localhost";
        if (client is not null)
        {
            handler.SslOptions.ClientCertificates = [client];
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => client;
        }

        return handler;
    }
}
