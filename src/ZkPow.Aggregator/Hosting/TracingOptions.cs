namespace ZkPow.Aggregator.Hosting;

/// <summary>Where the aggregator's trace spans go (section <c>Tracing</c>): off unless <see cref="OtlpEndpoint"/> is set.</summary>
public sealed class TracingOptions
{
    /// <summary>The OTLP collector to send spans to; unset: spans are not exported. With <c>http/protobuf</c> the full URL
    /// of the traces path (<c>http://collector:4318/v1/traces</c>), with <c>grpc</c> the collector's address
    /// (<c>http://collector:4317</c>).</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary><c>http/protobuf</c> (default) or <c>grpc</c>.</summary>
    public string OtlpProtocol { get; set; } = HttpProtobuf;

    /// <summary>The <c>service.name</c> of the exported spans (each replica adds its id as <c>service.instance.id</c>).</summary>
    public string ServiceName { get; set; } = "zkpow-aggregator";

    public const string HttpProtobuf = "http/protobuf";
    public const string Grpc = "grpc";

    /// <summary>The endpoint as a URI, if set.</summary>
    public Uri? Endpoint => string.IsNullOrWhiteSpace(OtlpEndpoint) ? null : new Uri(OtlpEndpoint, UriKind.Absolute);

    public void Validate()
    {
        if (!string.IsNullOrWhiteSpace(OtlpEndpoint) &&
            (!Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            throw new OptionsException("Tracing:OtlpEndpoint", $"'{OtlpEndpoint}' is not an http:// or https:// URL (e.g. http://collector:4318/v1/traces)");
        }

        if (!string.Equals(OtlpProtocol, HttpProtobuf, StringComparison.OrdinalIgnoreCase) && !string.Equals(OtlpProtocol, Grpc, StringComparison.OrdinalIgnoreCase))
        {
            throw new OptionsException("Tracing:OtlpProtocol", $"'{OtlpProtocol}' is not {HttpProtobuf} or {Grpc}");
        }

        if (string.IsNullOrWhiteSpace(ServiceName))
        {
            throw new OptionsException("Tracing:ServiceName", "must not be empty");
        }
    }
}
