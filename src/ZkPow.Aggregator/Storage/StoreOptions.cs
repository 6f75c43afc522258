namespace ZkPow.Aggregator.Storage;

/// <summary>Where and how the aggregator keeps its state.</summary>
public sealed class StoreOptions
{
    /// <summary>The store's kind: <c>sqlite</c> (default: one file, <see cref="SqlitePath"/>) or <c>postgres</c> (a PostgreSQL
    /// database, <see cref="ConnectionString"/>).</summary>
    public string Provider { get; set; } = SqliteProvider;

    /// <summary>The PostgreSQL connection string when <see cref="Provider"/> is <c>postgres</c> (Npgsql's keywords).
    /// Example: <c>Host=db;Port=5432;Username=zkpow;Password=…;Database=zkpow</c>. Its password is never logged.</summary>
    public string? ConnectionString { get; set; }

    public const string SqliteProvider = "sqlite";

    public const string PostgresProvider = "postgres";

    /// <summary>Whether the store is PostgreSQL (<see cref="Provider"/> <c>postgres</c>, any case).</summary>
    public bool IsPostgres => string.Equals(Provider, PostgresProvider, StringComparison.OrdinalIgnoreCase);

    /// <summary>Path of the SQLite database file. Example: <c>data/aggregator.db</c>.</summary>
    public string SqlitePath { get; set; } = "aggregator.db";

    /// <summary>
    /// SQLite <c>synchronous</c> setting: <c>FULL</c> (default) survives a power loss, <c>NORMAL</c> only a process
    /// crash. Anything else is refused.
    /// </summary>
    public string SqliteSynchronous { get; set; } = "FULL";

    /// <summary>Most writes grouped into one transaction (one fsync). Example: 512.</summary>
    public int MaxWritesPerCommit { get; set; } = 512;

    /// <summary>Recursive proofs and batch inputs are kept for the sequences among the last this many verified ones (and for
    /// every sequence not verified yet or whose submission is still open); older ones are deleted. Example: 1000.</summary>
    public int RetainVerified { get; set; } = 1000;

    /// <summary>How long the final proofs (and committed proofs) of verified sequences whose submission is closed are
    /// kept. Example: <c>30d</c>.</summary>
    public TimeSpan RetainFinalProofs { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often the background retention pass runs; <c>0</c> turns retention off (everything is kept).
    /// Example: <c>1m</c>.</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Most sequences (and final proofs) the retention pass deletes in one transaction; it pauses between two
    /// so that the writes of the dispatch path are never held up for long. Example: 8.</summary>
    public int RetentionBatch { get; set; } = 8;

    public void Validate()
    {
        if (!string.Equals(Provider, SqliteProvider, StringComparison.OrdinalIgnoreCase) && !IsPostgres)
        {
            throw new OptionsException("Store:Provider", $"must be sqlite or postgres, not '{Provider}'");
        }

        if (IsPostgres)
        {
            if (string.IsNullOrWhiteSpace(ConnectionString))
            {
                throw new OptionsException("Store:ConnectionString", "must name the PostgreSQL database when Store:Provider is postgres " +
                    "(for example Host=db;Username=zkpow;Password=...;Database=zkpow)");
            }

            try
            {
                _ = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
            {
                // The builder names the keyword it refuses; the redaction hides a password should a message ever quote one.
                throw new OptionsException("Store:ConnectionString",
                    $"is not a valid PostgreSQL connection string: {Chain.UrlRedaction.Redact(e.Message)}");
            }
        }

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

        if (RetainVerified is < 0 or > 100_000_000)
        {
            throw new OptionsException("Store:RetainVerified", "must be between 0 and 100000000 sequences");
        }

        if (RetainFinalProofs < TimeSpan.FromHours(1) || RetainFinalProofs > TimeSpan.FromDays(36_500))
        {
            throw new OptionsException("Store:RetainFinalProofs", "must be between 1h and 36500d");
        }

        if (RetentionInterval != TimeSpan.Zero && (RetentionInterval < TimeSpan.FromSeconds(1) || RetentionInterval > TimeSpan.FromDays(1)))
        {
            throw new OptionsException("Store:RetentionInterval", "must be 0 (retention off) or between 1s and 1d");
        }

        if (RetentionBatch is < 1 or > 10_000)
        {
            throw new OptionsException("Store:RetentionBatch", "must be between 1 and 10000");
        }
    }
}
