using ZkPow.Aggregator.Storage;

namespace ZkPow.Devnet.Bench;

/// <summary>Settings of the proof-generator benchmark (<c>zkpow bench</c>).</summary>
public sealed class GeneratorBenchmarkOptions
{
    /// <summary>In-process mock provers; 0 serves the sequences to external provers on <see cref="ProverPort"/>.</summary>
    public int Provers { get; set; } = 64;

    public int Sequences { get; set; } = 1000;

    /// <summary>Batches per sequence are drawn uniformly from 1..MaxBatches with <see cref="Seed"/>.</summary>
    public int MaxBatches { get; set; } = 8;

    /// <summary>Latency of every task kind on the mock provers.</summary>
    public TimeSpan ProverLatency { get; set; } = TimeSpan.Zero;

    /// <summary>Coefficient of variation of each job's time (lognormal, mean <see cref="ProverLatency"/>); 0 = fixed.</summary>
    public double LatencyJitter { get; set; }

    /// <summary>Speeds of the provers, cycled over them (prover i gets <c>ProverSpeeds[i % n]</c>): a job's time is divided
    /// by its prover's speed.</summary>
    public IReadOnlyList<double> ProverSpeeds { get; set; } = [1];

    /// <summary>Time between two sequences being synced (0 = all at once at the start).</summary>
    public TimeSpan SequenceInterval { get; set; } = TimeSpan.Zero;

    /// <summary>Whether the mock provers honour GetProof's timeout (long poll); false makes them answer at once like real
    /// provers, so that the session's adaptive polling is what is measured.</summary>
    public bool LongPoll { get; set; } = true;

    /// <summary>Every request waits for its claim to commit (<c>Generator:ClaimBeforeSend</c>; always so on PostgreSQL).</summary>
    public bool ClaimBeforeSend { get; set; }

    /// <summary>Measure the round-trip and store limits before the run.</summary>
    public bool MeasureLimits { get; set; } = true;

    /// <summary>Runs a few throw-away sequences first (their own store, generator and provers) so that the measured run
    /// starts on compiled code.</summary>
    public bool WarmUp { get; set; } = true;

    /// <summary>How long the round-trip limit is measured.</summary>
    public TimeSpan LimitWindow { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The speed of prover <paramref name="index"/>.</summary>
    public double SpeedOf(int index) => ProverSpeeds.Count == 0 ? 1 : ProverSpeeds[index % ProverSpeeds.Count];

    public int Seed { get; set; } = 1;

    /// <summary>Port for external provers when <see cref="Provers"/> is 0.</summary>
    public int ProverPort { get; set; } = 50081;

    /// <summary>Bytes of random L2 data per batch.</summary>
    public int BatchBytes { get; set; } = 256;

    /// <summary>Largest <see cref="ProofBytes"/>: an aggregation request carries two recursive proofs and must fit the
    /// prover send limit (<c>Provers:MaxSendBytes</c>, 4 MiB, what pre-Etrog provers accept).</summary>
    public const int MaxProofBytes = 1536 * 1024;

    /// <summary>Size of the recursive proofs the mock provers return (real ones are around 1 MiB); 0 = the mock's own
    /// few hundred bytes.</summary>
    public int ProofBytes { get; set; }

    /// <summary>Database file; empty = a fresh temporary file, removed afterwards.</summary>
    public string? DatabasePath { get; set; }

    /// <summary>SQLite synchronous setting (FULL is the durable default).</summary>
    public string SqliteSynchronous { get; set; } = "FULL";

    /// <summary>The store the run uses: <c>sqlite</c> (default) or <c>postgres</c>.</summary>
    public string Store { get; set; } = StoreOptions.SqliteProvider;

    /// <summary>With <c>postgres</c>: generators (aggregator replicas) sharing the work through the one database, each
    /// with its own store, prover server and share of the provers (prover i dials replica i mod N).</summary>
    public int Replicas { get; set; } = 1;

    /// <summary>With <c>postgres</c>: an existing, empty database to use (Npgsql connection string); null = a throwaway
    /// durable cluster started for the run and stopped at its end.</summary>
    public string? StoreConnection { get; set; }

    /// <summary>A CSV file to write the measured run's schedule to, one line per job (null = none).</summary>
    public string? TimelinePath { get; set; }

    /// <summary>Whether the run uses PostgreSQL.</summary>
    public bool IsPostgres => string.Equals(Store, StoreOptions.PostgresProvider, StringComparison.OrdinalIgnoreCase);

    /// <summary>Most replicas a run may build.</summary>
    public const int MaxReplicas = 16;

    public void Validate()
    {
        if (!string.Equals(Store, StoreOptions.SqliteProvider, StringComparison.OrdinalIgnoreCase) && !IsPostgres)
        {
            throw new ArgumentException($"--store must be sqlite or postgres, not '{Store}'");
        }

        if (Replicas is < 1 or > MaxReplicas)
        {
            throw new ArgumentException($"--replicas must be between 1 and {MaxReplicas}, not {Replicas}");
        }

        if (Replicas > 1 && !IsPostgres)
        {
            throw new ArgumentException($"--replicas {Replicas} needs --store postgres: replicas share their work through a PostgreSQL database " +
                                        "(a SQLite file belongs to one process)");
        }

        if (Replicas > 1 && Provers == 0)
        {
            throw new ArgumentException("--provers 0 serves external provers on one port, so it runs one replica: use --replicas 1 or in-process provers");
        }

        if (StoreConnection is not null)
        {
            if (!IsPostgres)
            {
                throw new ArgumentException("--store-connection names a PostgreSQL database: it needs --store postgres");
            }

            Npgsql.NpgsqlConnectionStringBuilder builder;
            try
            {
                builder = new Npgsql.NpgsqlConnectionStringBuilder(StoreConnection);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException or InvalidCastException)
            {
                throw new ArgumentException($"--store-connection is not a PostgreSQL connection string: {e.Message}", e);
            }

            if (string.IsNullOrWhiteSpace(builder.Host) || string.IsNullOrWhiteSpace(builder.Database))
            {
                throw new ArgumentException("--store-connection must name a host and a database (for example " +
                                            "Host=127.0.0.1;Port=5432;Username=postgres;Database=bench)");
            }
        }

        if (IsPostgres && !string.IsNullOrEmpty(DatabasePath))
        {
            throw new ArgumentException("--db names the SQLite file: with --store postgres use --store-connection");
        }

        if (IsPostgres && !string.Equals(SqliteSynchronous, "FULL", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException("--sqlite-synchronous applies to --store sqlite only (PostgreSQL runs with fsync=on and synchronous_commit=on)");
        }

        if (Provers is < 0 or > 4096)
        {
            throw new ArgumentException("--provers must be between 0 and 4096");
        }

        if (Sequences is < 1 or > 1_000_000)
        {
            throw new ArgumentException("--sequences must be between 1 and 1000000");
        }

        if (MaxBatches is < 1 or > 1024)
        {
            throw new ArgumentException("--max-batches must be between 1 and 1024");
        }

        if (ProverLatency < TimeSpan.Zero)
        {
            throw new ArgumentException("--prover-latency must not be negative");
        }

        if (double.IsNaN(LatencyJitter) || LatencyJitter is < 0 or > 10)
        {
            throw new ArgumentException("--latency-jitter must be between 0 and 10 (a coefficient of variation)");
        }

        if (ProverSpeeds.Count == 0 || ProverSpeeds.Any(x => double.IsNaN(x) || x is <= 0 or > 1000))
        {
            throw new ArgumentException("--prover-speeds must be a list of speeds above 0 and at most 1000, such as 1,1,2,4");
        }

        if (SequenceInterval < TimeSpan.Zero)
        {
            throw new ArgumentException("--sequence-interval must not be negative");
        }

        if (LimitWindow <= TimeSpan.Zero)
        {
            throw new ArgumentException("the limit window must be positive");
        }

        if (BatchBytes is < 0 or > 1_000_000)
        {
            throw new ArgumentException("--batch-bytes must be between 0 and 1000000");
        }

        if (ProofBytes is < 0 or > MaxProofBytes)
        {
            throw new ArgumentException(
                $"--proof-bytes must be between 0 and {MaxProofBytes} (1.5 MiB): an aggregation request carries two recursive proofs " +
                $"and must fit Provers:MaxSendBytes ({4 * 1024 * 1024} bytes, what pre-Etrog provers accept), not {ProofBytes}");
        }
    }
}
