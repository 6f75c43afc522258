namespace ZkPow.Aggregator.Hosting;

/// <summary>Where provers dial in.</summary>
public sealed class ProverServerOptions
{
    /// <summary>Address to listen on. Example: <c>127.0.0.1</c> (loopback) or <c>0.0.0.0</c> (all interfaces).</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>TCP port for the prover gRPC endpoint; 0 picks a free one. Example: 50081.</summary>
    public int Port { get; set; } = 50081;

    /// <summary>If the port is taken, listen on a free one instead (and say which).</summary>
    public bool FallBackToFreePort { get; set; }

    /// <summary>PFX certificate for TLS; empty means cleartext HTTP/2. Example: <c>/etc/zkpow/prover.pfx</c>.</summary>
    public string? TlsCertificatePath { get; set; }

    /// <summary>Password of the PFX file, if any.</summary>
    public string? TlsCertificatePassword { get; set; }

    public void Validate()
    {
        if (!System.Net.IPAddress.TryParse(ListenAddress, out _))
        {
            throw new OptionsException("Provers:ListenAddress", $"'{ListenAddress}' is not an IP address");
        }

        if (Port is < 0 or > 65535)
        {
            throw new OptionsException("Provers:Port", $"{Port} is not a TCP port (0 to 65535)");
        }

        if (!string.IsNullOrEmpty(TlsCertificatePath) && !File.Exists(TlsCertificatePath))
        {
            throw new OptionsException("Provers:TlsCertificatePath", $"no file at '{TlsCertificatePath}'");
        }
    }
}
