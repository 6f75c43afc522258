namespace ZkPow.Aggregator.Generator;

/// <summary>The track record of one prover (principal and name) since the aggregator started: its jobs done and
/// failed, the failures in a row since its last success, and its quarantine. Guarded by the generator's lock.</summary>
internal sealed class ProverHealth(string name, string principal)
{
    public string Name { get; } = name;

    public string Principal { get; } = principal;

    public int JobsDone { get; set; }

    public int JobsFailed { get; set; }

    /// <summary>Failures since the last success.</summary>
    public int FailuresInRow { get; set; }

    /// <summary>Quarantines since the last success (each one twice as long as the one before).</summary>
    public int Quarantines { get; set; }

    public DateTimeOffset? QuarantinedUntil { get; set; }

    /// <summary>Times its proofs were inputs that two provers could not use (never reset: a completed job says nothing
    /// about the worth of its proof, so a blamed prover's successes do not lift its quarantine either).</summary>
    public int Blames { get; set; }

    public string LastError { get; set; } = "";

    public static string KeyOf(string principal, string name) => $"{principal}/{name}";
}
