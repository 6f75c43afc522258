using System.Security.Cryptography.X509Certificates;

namespace ZkPow.Devnet.Prover;

/// <summary>Settings of one mock prover (the <c>zkpow prover</c> command maps its flags onto these).</summary>
public sealed class MockProverOptions
{
    /// <summary>The aggregator's gRPC address, cleartext HTTP/2. Example: <c>http://127.0.0.1:50081</c>.</summary>
    public Uri Aggregator { get; set; } = new("http://127.0.0.1:50081");

    /// <summary>Further aggregator addresses (replicas of one miner) tried in turn after <see cref="Aggregator"/>: when a
    /// connection fails or its stream ends the prover dials the next address (wrapping round), as a TCP load balancer in
    /// front of the replicas would. Default none (always <see cref="Aggregator"/>).</summary>
    public IReadOnlyList<Uri> FallbackAggregators { get; set; } = [];

    /// <summary>Stable prover name reported as <c>prover_name</c>. Example: <c>gpu-01</c>.</summary>
    public string Name { get; set; } = "mock-prover";

    /// <summary>Instance id reported as <c>prover_id</c>; null = a new GUID per start. Changes on every restart.</summary>
    public string? InstanceId { get; set; }

    /// <summary>Fork id the prover is "built" for; batch inputs with another fork id fail. Example: 6.</summary>
    public ulong ForkId { get; set; } = 6;

    /// <summary>Time a batch proof job computes. Example: 00:00:02 (2 s). Default 0.</summary>
    public TimeSpan BatchLatency { get; set; }

    /// <summary>Time an aggregated proof job computes. Default 0.</summary>
    public TimeSpan AggregateLatency { get; set; }

    /// <summary>Time a final proof job computes. Default 0.</summary>
    public TimeSpan FinalLatency { get; set; }

    /// <summary>Coefficient of variation of every job's time: each job draws a factor from a lognormal distribution with
    /// mean 1 and this standard deviation (0 = every job takes exactly its latency). Example: 0.3.</summary>
    public double LatencyJitter { get; set; }

    /// <summary>How fast this prover is: every job's time is divided by it. Example: 2 (twice as fast). Default 1.</summary>
    public double Speed { get; set; } = 1;

    /// <summary>Answers a GetProof whose <c>timeout</c> (seconds) is set when the job ends, or at the timeout, instead of
    /// at once (a long poll). Real provers ignore the field; false makes this one do the same. Default true.</summary>
    public bool HonourGetProofTimeout { get; set; } = true;

    /// <summary>Keeps a <see cref="MockJobTiming"/> per accepted job (for benchmarks). Default false.</summary>
    public bool RecordTimings { get; set; }

    /// <summary>Probability (0..1) that a job completes with RESULT_COMPLETED_ERROR. Example: 0.05.</summary>
    public double FailureRate { get; set; }

    /// <summary>Seed of the failure draws; null = unseeded.</summary>
    public int? Seed { get; set; }

    /// <summary>Wait before reconnecting after the stream drops or the aggregator is unreachable. Default 1 s.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The prover drops the stream if it hears nothing from the aggregator for this long. Default 60 s.</summary>
    public TimeSpan Watchdog { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How this prover misbehaves (default: it does not).</summary>
    public MockProverMisbehaviour Misbehaviour { get; set; }

    /// <summary>With <see cref="MockProverMisbehaviour.Flapping"/>: how long each connection lasts before the prover drops
    /// it. Default 3 s.</summary>
    public TimeSpan FlapInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Sent on every stream as <c>authorization: Bearer …</c> gRPC metadata (a token from <c>zkpow token new</c>);
    /// null = none.</summary>
    public string? BearerToken { get; set; }

    /// <summary>Presented in the TLS handshake (with its private key) when the aggregator asks for one (mutual TLS); null =
    /// none. Needs an <c>https://</c> <see cref="Aggregator"/>.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>Trusted for the aggregator's TLS certificate besides the system's roots: a CA, or the aggregator's own
    /// (self-signed) certificate; null = the system's roots only.</summary>
    public X509Certificate2? ServerCertificateAuthority { get; set; }

    /// <summary>If set, one JSON line per received Gen*Request is appended (and flushed) to this file.</summary>
    public string? JournalPath { get; set; }

    /// <summary>Largest aggregator message accepted, in bytes; larger ones drop the stream. Default 4 MiB (pre-Etrog).</summary>
    public int MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Finished jobs are forgotten after this long, like a real prover. Default 1 h.</summary>
    public TimeSpan JobRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Size in characters the recursive proofs are padded to (real ones are around 1 MiB); 0 = unpadded
    /// (a few hundred bytes).</summary>
    public int ProofBytes { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> describing the first invalid setting.</summary>
    public void Validate()
    {
        if (Aggregator is null || !Aggregator.IsAbsoluteUri || (Aggregator.Scheme != Uri.UriSchemeHttp && Aggregator.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException("Aggregator must be an absolute http(s) URI", nameof(Aggregator));
        }

        if (FallbackAggregators is null || FallbackAggregators.Any(a => a is null || !a.IsAbsoluteUri || a.Scheme != Aggregator.Scheme))
        {
            throw new ArgumentException("FallbackAggregators must be absolute URIs with the scheme of Aggregator", nameof(FallbackAggregators));
        }

        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("Name must not be empty", nameof(Name));
        }

        if (InstanceId is { Length: 0 })
        {
            throw new ArgumentException("InstanceId must not be empty when given", nameof(InstanceId));
        }

        if (BatchLatency < TimeSpan.Zero || AggregateLatency < TimeSpan.Zero || FinalLatency < TimeSpan.Zero)
        {
            throw new ArgumentException("latencies must not be negative");
        }

        if (double.IsNaN(LatencyJitter) || LatencyJitter is < 0 or > 10)
        {
            throw new ArgumentException("LatencyJitter must be within 0..10", nameof(LatencyJitter));
        }

        if (double.IsNaN(Speed) || Speed is <= 0 or > 1000)
        {
            throw new ArgumentException("Speed must be above 0 and at most 1000", nameof(Speed));
        }

        if (double.IsNaN(FailureRate) || FailureRate is < 0 or > 1)
        {
            throw new ArgumentException("FailureRate must be within 0..1", nameof(FailureRate));
        }

        if (ReconnectDelay < TimeSpan.Zero)
        {
            throw new ArgumentException("ReconnectDelay must not be negative", nameof(ReconnectDelay));
        }

        if (Watchdog <= TimeSpan.Zero || JobRetention <= TimeSpan.Zero)
        {
            throw new ArgumentException("Watchdog and JobRetention must be positive");
        }

        if (BearerToken is not null && (BearerToken.Length == 0 || BearerToken.Any(char.IsWhiteSpace)))
        {
            throw new ArgumentException("BearerToken must not be empty or contain white space", nameof(BearerToken));
        }

        if (ClientCertificate is not null && !ClientCertificate.HasPrivateKey)
        {
            throw new ArgumentException("ClientCertificate needs its private key", nameof(ClientCertificate));
        }

        if ((ClientCertificate is not null || ServerCertificateAuthority is not null) && Aggregator?.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException("a client certificate or a server CA needs an https:// aggregator address", nameof(Aggregator));
        }

        if (FlapInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("FlapInterval must be positive", nameof(FlapInterval));
        }

        if (ProofBytes is < 0 or > 64 * 1024 * 1024)
        {
            throw new ArgumentException("ProofBytes must be between 0 and 64 MiB", nameof(ProofBytes));
        }

        if (MaxReceiveMessageSize <= 0)
        {
            throw new ArgumentException("MaxReceiveMessageSize must be positive", nameof(MaxReceiveMessageSize));
        }

        if (!Enum.IsDefined(Misbehaviour))
        {
            throw new ArgumentException("unknown misbehaviour", nameof(Misbehaviour));
        }
    }
}
