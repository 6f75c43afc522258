using System.Security.Cryptography;

namespace ZkPow.Aggregator.Leadership;

/// <summary>This process among the replicas of one miner sharing a PostgreSQL database (section <c>Replica</c>).</summary>
public sealed class ReplicaOptions
{
    /// <summary>The replica's id in the lease and the replica list (text, at most 200 characters); unset: the host name,
    /// the process id and a random suffix, different at every start.</summary>
    public string? Id { get; set; }

    /// <summary>The id this process uses: <see cref="Id"/>, or one made once per options object.</summary>
    public string EffectiveId => Id ?? (_generated ??= $"{Environment.MachineName}-{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}");

    private string? _generated;

    public void Validate()
    {
        if (Id is not null && (string.IsNullOrWhiteSpace(Id) || Id.Length > 200 || Id.Any(char.IsControl)))
        {
            throw new OptionsException("Replica:Id", "must be non-empty text of at most 200 characters without control characters");
        }
    }
}
