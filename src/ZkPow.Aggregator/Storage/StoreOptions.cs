namespace ZkPow.Aggregator.Storage;

/// <summary>Where and how the aggregator keeps its state.</summary>
public sealed class StoreOptions
{
    /// <summary>Path of the SQLite database file. Example: <c>data/aggregator.db</c>.</summary>
    public string SqlitePath { get; set; } = "aggregator.db";

    /// <summary>
    /// SQLite <c>synchronous</c> setting: <c>FULL</c> (default) survives a power loss, <c>NORMAL</c> only a process
    /// crash. Anything else is refused.
    /// </summary>
    public string SqliteSynchronous { get; set; } = "FULL";

    /// <summary>Most writes grouped into one transaction (one fsync). Example: 512.</summary>
    public int MaxWritesPerCommit { get; set; } = 512;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(SqlitePath))
        {
            throw new OptionsException("Store:SqlitePath", "must name a file");
        }

        if (SqliteSynchronous is not ("FULL" or "NORMAL" or "EXTRA"))
        {
            throw new OptionsException("Store:SqliteSynchronous", $"must be FULL, EXTRA or NORMAL, not '{SqliteSynchronous}'");
        }

        if (MaxWritesPerCommit is < 1 or > 100_000)
        {
            throw new OptionsException("Store:MaxWritesPerCommit", "must be between 1 and 100000");
        }
    }
}
