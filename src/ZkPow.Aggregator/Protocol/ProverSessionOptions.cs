namespace ZkPow.Aggregator.Protocol;

/// <summary>How the aggregator talks to each connected prover.</summary>
public sealed class ProverSessionOptions
{
    /// <summary>The rollup's fork id; a prover reporting another is refused. Example: 6.</summary>
    public ulong ForkId { get; set; } = 6;

    /// <summary>Longest silence on a stream before a GetStatus is sent (real provers kill themselves after 60 s
    /// without a message; no stream stays silent for more than 15 s). Example: <c>10s</c>.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a prover may take to answer one request before its session is ended. Example: <c>10s</c>.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest request sent to a prover, in bytes (pre-Etrog provers keep gRPC's 4 MiB receive limit).
    /// A larger request is not sent: its task is parked with that reason.</summary>
    public int MaxSendBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Largest message accepted from a prover, in bytes (recursive proofs can be several MB). A larger message
    /// ends that prover's stream only.</summary>
    public int MaxReceiveBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>How long a new stream has to answer its first GetStatus (and a connection to finish its TLS handshake
    /// and send its first request) before it is closed. Example: <c>10s</c>.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Shortest wait between two GetProof polls of a job. Example: <c>1ms</c>.</summary>
    public TimeSpan PollMin { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Longest wait between two GetProof polls of a job. Example: <c>2s</c>.</summary>
    public TimeSpan PollMax { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The <c>timeout</c> sent with GetProof (whole seconds): a prover that honours it answers when the job ends
    /// (a long poll), so the proof is fetched the moment it exists. Real provers ignore it and answer at once; the
    /// session notices and polls adaptively instead. Rounded up to whole seconds; not sent (0) unless that is below
    /// <see cref="ResponseTimeout"/>; 0 = never ask.
    /// Example: <c>5s</c>.</summary>
    public TimeSpan GetProofTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest wait before a job's first GetProof poll, and between polls while the job is younger than the
    /// duration learned for its prover (one very long job must not push the next first poll hours away).
    /// Example: <c>30s</c>.</summary>
    public TimeSpan FirstPollMax { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a prover that is busy with work we did not give it is asked for its status. Example: <c>1s</c>.</summary>
    public TimeSpan BusyStatusInterval { get; set; } = TimeSpan.FromSeconds(1);

    public void Validate()
    {
        Positive(HeartbeatInterval, "Provers:HeartbeatInterval");
        if (HeartbeatInterval > TimeSpan.FromSeconds(15))
        {
            throw new OptionsException("Provers:HeartbeatInterval", "must be at most 15s (provers drop silent streams)");
        }

        Positive(ResponseTimeout, "Provers:ResponseTimeout");
        Positive(HandshakeTimeout, "Provers:HandshakeTimeout");
        Positive(PollMin, "Provers:PollMin");
        Positive(PollMax, "Provers:PollMax");
        Positive(BusyStatusInterval, "Provers:BusyStatusInterval");
        if (GetProofTimeout < TimeSpan.Zero)
        {
            throw new OptionsException("Provers:GetProofTimeout", "must not be negative (0 = never ask for a long poll)");
        }

        Positive(FirstPollMax, "Provers:FirstPollMax");
        if (PollMax < PollMin)
        {
            throw new OptionsException("Provers:PollMax", "must not be below Provers:PollMin");
        }

        if (MaxSendBytes < 1024)
        {
            throw new OptionsException("Provers:MaxSendBytes", "must be at least 1024 bytes");
        }

        if (MaxReceiveBytes < 1024)
        {
            throw new OptionsException("Provers:MaxReceiveBytes", "must be at least 1024 bytes");
        }
    }

    private static void Positive(TimeSpan value, string key)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new OptionsException(key, "must be a positive duration such as 500ms or 2s");
        }
    }
}
