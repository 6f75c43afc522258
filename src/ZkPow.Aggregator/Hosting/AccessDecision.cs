namespace ZkPow.Aggregator.Hosting;

/// <summary>The answer of <see cref="ProverAccess.Check"/>: the principal of an admitted stream, or why it is refused.</summary>
public readonly record struct AccessDecision(string? Principal, string? Refusal)
{
    public static AccessDecision Admit(string principal) => new(principal, null);

    public static AccessDecision Refuse(string reason) => new(null, reason);
}
