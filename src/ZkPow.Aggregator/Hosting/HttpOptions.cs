namespace ZkPow.Aggregator.Hosting;

/// <summary>The operator endpoint: health, metrics and status.</summary>
public sealed class HttpOptions
{
    /// <summary>Address to listen on; loopback by default. Example: <c>127.0.0.1</c>.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one. Example: 9091.</summary>
    public int Port { get; set; } = 9091;

    public void Validate()
    {
        if (!System.Net.IPAddress.TryParse(ListenAddress, out _))
        {
            throw new OptionsException("Http:ListenAddress", $"'{ListenAddress}' is not an IP address");
        }

        if (Port is < 0 or > 65535)
        {
            throw new OptionsException("Http:Port", $"{Port} is not a TCP port (0 to 65535)");
        }
    }
}
