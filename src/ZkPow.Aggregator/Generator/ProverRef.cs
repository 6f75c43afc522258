namespace ZkPow.Aggregator.Generator;

/// <summary>
/// Identifies one run of one prover: the principal that connected it (its certificate, its token or its address),
/// its stable name and its per-start instance id. Two connections with the same name and id but different principals
/// are different provers: neither can close, adopt or complete the other's work.
/// </summary>
public readonly record struct ProverRef(string Name, string InstanceId, string Principal = "")
{
    /// <summary>How the instance column of the store holds the principal and the instance id together.</summary>
    public string StoredInstance => $"{Principal}|{InstanceId}";

    /// <summary>Reads back a reference written with <see cref="StoredInstance"/> (rows written before principals
    /// existed have no separator and no principal).</summary>
    public static ProverRef FromStored(string name, string storedInstance)
    {
        var separator = storedInstance.IndexOf('|', StringComparison.Ordinal);
        return separator < 0
            ? new ProverRef(name, storedInstance)
            : new ProverRef(name, storedInstance[(separator + 1)..], storedInstance[..separator]);
    }

    public override string ToString() => Principal.Length == 0 ? $"{Name}/{InstanceId}" : $"{Name}/{InstanceId} ({Principal})";
}
