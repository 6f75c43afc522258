namespace ZkPow.Aggregator.Generator;

/// <summary>Identifies one run of one prover: the name is stable across restarts, the instance id is not.</summary>
public readonly record struct ProverRef(string Name, string InstanceId)
{
    public override string ToString() => $"{Name}/{InstanceId}";
}
