using ZkPow.Devnet.Prover;

namespace ZkPow.Devnet.Network;

/// <summary>The devnet's settings (the <c>zkpow devnet</c> flags). The defaults are the embedded devnet defaults.</summary>
public sealed class DevnetOptions
{
    /// <summary>Mock provers per miner; 0 = wait for external provers on the prover port.</summary>
    public int Provers { get; set; } = 8;

    /// <summary>Sequences the rollup sends; 0 = keep sequencing until stopped.</summary>
    public int Sequences { get; set; }

    /// <summary>How many of each miner's <see cref="Provers"/> misbehave (the first ones), each with a behaviour drawn in
    /// turn from <see cref="BadBehaviours"/>.</summary>
    public int BadProvers { get; set; }

    /// <summary>The behaviours bad provers take, in turn (default <see cref="DefaultBadBehaviours"/>: with five bad
    /// provers, one of each).</summary>
    public IReadOnlyList<MockProverMisbehaviour> BadBehaviours { get; set; } = DefaultBadBehaviours;

    /// <summary>PENDING forever, a flapping connection, junk recursive proofs, wrong final proofs, failing every job.</summary>
    public static readonly IReadOnlyList<MockProverMisbehaviour> DefaultBadBehaviours =
    [
        MockProverMisbehaviour.PendingForever,
        MockProverMisbehaviour.Flapping,
        MockProverMisbehaviour.JunkRecursiveProof,
        MockProverMisbehaviour.WrongFinalProof,
        MockProverMisbehaviour.FailEveryJob,
    ];

    /// <summary>The behaviour of prover <paramref name="index"/> (0-based) of a miner: the first <see cref="BadProvers"/>
    /// misbehave, in turn.</summary>
    public MockProverMisbehaviour BehaviourOf(int index) =>
        index < BadProvers ? BadBehaviours[index % BadBehaviours.Count] : MockProverMisbehaviour.None;

    public int MaxBatches { get; set; } = 8;

    public int Miners { get; set; } = 1;

    public byte T1 { get; set; } = 5;

    public byte T2 { get; set; } = 10;

    /// <summary>Seconds between blocks; 0 = a block per transaction.</summary>
    public int BlockTime { get; set; } = 1;

    public TimeSpan ProverLatency { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Prover port of the first miner (the next miners take the next ports); a taken port falls back to a free one.</summary>
    public int ProverPort { get; set; } = 50081;

    public int RpcPort { get; set; } = 8545;

    public int RollupNodePort { get; set; } = 8123;

    public int HttpPort { get; set; } = 9091;

    /// <summary>Where the devnet keeps its files (stores, keystores, configurations); null = a fresh folder.</summary>
    public string? DataDir { get; set; }

    public int Seed { get; set; } = 1;

    /// <summary>Time between two sequences.</summary>
    public TimeSpan SequenceInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Start everything but the aggregator; write <c>&lt;data-dir&gt;/aggregator.json</c> for <c>zkpow run</c>.</summary>
    public bool ExternalAggregator { get; set; }

    /// <summary>Configuration overrides for the in-process aggregators, as <c>zkpow run</c> takes them
    /// (<c>--Generator:MaxAttempts=2</c>); tests use them. Default none.</summary>
    public IReadOnlyList<string> AggregatorOverrides { get; set; } = [];

    /// <summary>The anvil binary (<c>--anvil</c>); null = env ANVIL_BINARY, the repository's npm install, <c>anvil</c> on
    /// PATH, or the pinned version installed once into the per-user cache.</summary>
    public string? AnvilPath { get; set; }
    /// <summary>Share (0..1) of the aggregators' JSON-RPC requests that fault proxies fail; null = no proxies (the
    /// aggregators reach anvil and the rollup node directly). With a rate (even 0) each aggregator gets two endpoints
    /// for each, behind two independent proxies.</summary>
    public double? RpcFaults { get; set; }

    /// <summary>An <c>anvil_reorg</c> of depth 1–3 every ~N blocks; 0 = none.</summary>
    public int Reorgs { get; set; }

    /// <summary>Every proxied endpoint is unreachable for this long (<c>--outage D@S</c>); null = no outage.</summary>
    public TimeSpan? OutageDuration { get; set; }

    /// <summary>When the outage starts, after start-up.</summary>
    public TimeSpan OutageStart { get; set; }

    /// <summary>The aggregators' store: <c>sqlite</c> (default: a file per miner, the aggregator in this process) or
    /// <c>postgres</c> (a throwaway PostgreSQL cluster under <c>&lt;data-dir&gt;/postgres</c>, a database per miner, each
    /// miner's aggregator run as <see cref="Replicas"/> child processes).</summary>
    public string Store { get; set; } = SqliteStore;

    public const string SqliteStore = "sqlite";

    public const string PostgresStore = "postgres";

    /// <summary>Whether <see cref="Store"/> is <c>postgres</c>.</summary>
    public bool IsPostgres => string.Equals(Store, PostgresStore, StringComparison.OrdinalIgnoreCase);

    /// <summary>Aggregator replicas per miner (<c>zkpow run</c> child processes on one database); more than 1 needs
    /// <c>--store postgres</c>. Default 1.</summary>
    public int Replicas { get; set; } = 1;

    /// <summary>Every random <see cref="KillReplicasMin"/>..<see cref="KillReplicasMax"/> one replica is killed (SIGKILL)
    /// and restarted about a second later; null = no kills. Needs <see cref="Replicas"/> above 1.</summary>
    public TimeSpan? KillReplicasMin { get; set; }

    public TimeSpan? KillReplicasMax { get; set; }

    /// <summary>Whether replicas are killed (<c>--kill-replicas</c>).</summary>
    public bool KillsReplicas => KillReplicasMin is not null;

    /// <summary>Parses <c>MIN-MAX</c> (for example <c>10s-20s</c>) or a single duration (min = max).</summary>
    public static (TimeSpan Min, TimeSpan Max) ParseKillReplicas(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('-');
        if (parts.Length is < 1 or > 2)
        {
            throw new ArgumentException($"--kill-replicas '{text}' is not MIN-MAX (for example 10s-20s)");
        }

        return ZkPow.Aggregator.Durations.TryParse(parts[0].Trim(), out var min) && ZkPow.Aggregator.Durations.TryParse(parts[^1].Trim(), out var max)
            ? (min, max)
            : throw new ArgumentException($"--kill-replicas '{text}' is not MIN-MAX with durations (for example 10s-20s)");
    }

    /// <summary>Proxies stand between the aggregators and the nodes (a fault rate or an outage was asked for).</summary>
    public bool Proxied => RpcFaults is not null || OutageDuration is not null;

    /// <summary>Parses <c>D@S</c> (for example <c>8s@60s</c>): an outage of D starting S after start-up.</summary>
    public static (TimeSpan Duration, TimeSpan Start) ParseOutage(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('@');
        if (parts.Length != 2)
        {
            throw new ArgumentException($"--outage '{text}' is not D@S (for example 8s@60s)");
        }

        return ZkPow.Aggregator.Durations.TryParse(parts[0].Trim(), out var duration) && ZkPow.Aggregator.Durations.TryParse(parts[1].Trim(), out var start)
            ? (duration, start)
            : throw new ArgumentException($"--outage '{text}' is not D@S with durations (for example 8s@60s)");
    }

    public void Validate()
    {
        if (Provers is < 0 or > 256)
        {
            throw new ArgumentException("--provers must be between 0 and 256");
        }

        if (BadProvers < 0 || BadProvers > Provers)
        {
            throw new ArgumentException("--bad-provers must be between 0 and --provers");
        }

        if (BadBehaviours is null || BadBehaviours.Count == 0 || BadBehaviours.Any(b => b == MockProverMisbehaviour.None || !Enum.IsDefined(b)))
        {
            throw new ArgumentException("--bad-behaviours must name at least one misbehaviour (not None)");
        }

        if (Sequences < 0)
        {
            throw new ArgumentException("--sequences must not be negative");
        }

        if (MaxBatches is < 1 or > 64)
        {
            throw new ArgumentException("--max-batches must be between 1 and 64");
        }

        if (Miners is < 1 or > 8)
        {
            throw new ArgumentException("--miners must be between 1 and 8");
        }

        if (T1 < 1 || T2 < 1)
        {
            throw new ArgumentException("--t1 and --t2 must be at least 1 block");
        }

        if (BlockTime is < 0 or > 60)
        {
            throw new ArgumentException("--block-time must be between 0 and 60 seconds");
        }

        if (ProverLatency < TimeSpan.Zero)
        {
            throw new ArgumentException("--prover-latency must not be negative");
        }

        if (RpcFaults is { } rate && (double.IsNaN(rate) || rate is < 0 or > 1))
        {
            throw new ArgumentException("--rpc-faults must be between 0 and 1");
        }

        if (Reorgs < 0)
        {
            throw new ArgumentException("--reorgs must not be negative");
        }

        if (OutageDuration is { } outage && (outage <= TimeSpan.Zero || OutageStart < TimeSpan.Zero))
        {
            throw new ArgumentException("--outage needs a positive duration and a start that is not negative");
        }

        if (Reorgs > 0 && BlockTime == 0)
        {
            throw new ArgumentException("--reorgs needs blocks on a clock (--block-time at least 1)");
        }

        if (ExternalAggregator && Miners != 1)
        {
            throw new ArgumentException("--external-aggregator runs one miner (--miners 1)");
        }

        if (!string.Equals(Store, SqliteStore, StringComparison.OrdinalIgnoreCase) && !IsPostgres)
        {
            throw new ArgumentException($"--store must be sqlite or postgres, not '{Store}'");
        }

        if (Replicas is < 1 or > 16)
        {
            throw new ArgumentException("--replicas must be between 1 and 16");
        }

        if (Replicas > 1 && !IsPostgres)
        {
            throw new ArgumentException("--replicas above 1 needs --store postgres (replicas share one PostgreSQL database; SQLite is one process)");
        }

        if (Replicas > 1 && ExternalAggregator)
        {
            throw new ArgumentException("--replicas above 1 runs the aggregators itself; it does not go with --external-aggregator");
        }

        if (KillReplicasMin is not null || KillReplicasMax is not null)
        {
            if (KillReplicasMin is not { } min || KillReplicasMax is not { } max || min <= TimeSpan.Zero || max < min)
            {
                throw new ArgumentException("--kill-replicas needs MIN-MAX with 0 < MIN <= MAX (for example 10s-20s)");
            }

            if (Replicas < 2)
            {
                throw new ArgumentException("--kill-replicas needs --replicas 2 or more (a miner must keep a replica while another restarts)");
            }
        }
    }
}
