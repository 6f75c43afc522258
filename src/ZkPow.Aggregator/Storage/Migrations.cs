namespace ZkPow.Aggregator.Storage;

/// <summary>
/// The schema, as an ordered list of versioned migrations. A migration is applied once, in its own transaction,
/// and recorded in <c>schema_migrations</c>. Never edit a released migration; add a new one.
/// <see cref="PostgresMigrations"/> holds the same steps, under the same numbers, for PostgreSQL.
/// </summary>
internal static class Migrations
{
    public sealed record Migration(int Version, string Name, string Sql);

    public static IReadOnlyList<Migration> All { get; } =
    [
        new(1, "sequences, batches, tasks, final proofs", """
            CREATE TABLE sequences (
                final_batch   INTEGER PRIMARY KEY,
                init_batch    INTEGER NOT NULL,
                state         INTEGER NOT NULL,
                created_ms    INTEGER NOT NULL
            );
            CREATE TABLE batches (
                batch_num     INTEGER PRIMARY KEY,
                final_batch   INTEGER NOT NULL REFERENCES sequences(final_batch),
                prover_input  BLOB NOT NULL
            );
            CREATE TABLE tasks (
                id              INTEGER PRIMARY KEY AUTOINCREMENT,
                final_batch     INTEGER NOT NULL REFERENCES sequences(final_batch),
                seq_init        INTEGER NOT NULL,
                kind            INTEGER NOT NULL,
                from_batch      INTEGER NOT NULL,
                to_batch        INTEGER NOT NULL,
                input1          INTEGER,
                input2          INTEGER,
                state           INTEGER NOT NULL,
                attempts        INTEGER NOT NULL DEFAULT 0,
                prover_name     TEXT,
                prover_instance TEXT,
                job_id          TEXT,
                lease_until_ms  INTEGER,
                last_error      TEXT,
                failed_on       TEXT NOT NULL DEFAULT '',
                avoid_provers   TEXT NOT NULL DEFAULT '',
                made_by         TEXT,
                proof           TEXT,
                created_ms      INTEGER NOT NULL,
                updated_ms      INTEGER NOT NULL
            );
            CREATE UNIQUE INDEX tasks_live_range ON tasks (final_batch, kind, from_batch, to_batch) WHERE state <> 4;
            CREATE INDEX tasks_by_state ON tasks (state, final_batch);
            CREATE TABLE final_proofs (
                final_batch         INTEGER PRIMARY KEY REFERENCES sequences(final_batch),
                init_batch          INTEGER NOT NULL,
                proof               TEXT NOT NULL,
                aggregator_addr     TEXT NOT NULL,
                new_state_root      BLOB NOT NULL,
                new_acc_input_hash  BLOB NOT NULL,
                new_local_exit_root BLOB NOT NULL,
                prover_name         TEXT NOT NULL,
                created_ms          INTEGER NOT NULL
            );
            """),
        new(2, "transactions: nonces per sender, managed transactions and their signed versions", """
            CREATE TABLE tx_senders (
                sender       TEXT PRIMARY KEY,
                next_nonce   INTEGER NOT NULL
            );
            CREATE TABLE txs (
                id             INTEGER PRIMARY KEY AUTOINCREMENT,
                idem_key       TEXT NOT NULL UNIQUE,
                kind           TEXT NOT NULL,
                sender         TEXT NOT NULL,
                to_addr        TEXT NOT NULL,
                data           BLOB NOT NULL,
                value_wei      TEXT NOT NULL,
                state          INTEGER NOT NULL,
                gas_limit      INTEGER NOT NULL DEFAULT 0,
                nonce          INTEGER,
                max_fee        TEXT,
                priority_fee   TEXT,
                legacy         INTEGER NOT NULL DEFAULT 0,
                raw_tx         BLOB,
                tx_hash        TEXT,
                block_number   INTEGER,
                block_hash     TEXT,
                succeeded      INTEGER,
                revert_data    TEXT,
                revert_message TEXT,
                error          TEXT,
                replacements   INTEGER NOT NULL DEFAULT 0,
                rebroadcasts   INTEGER NOT NULL DEFAULT 0,
                reorgs         INTEGER NOT NULL DEFAULT 0,
                created_ms     INTEGER NOT NULL,
                updated_ms     INTEGER NOT NULL,
                sent_ms        INTEGER
            );
            CREATE UNIQUE INDEX txs_sender_nonce ON txs (sender, nonce) WHERE nonce IS NOT NULL;
            CREATE INDEX txs_by_state ON txs (sender, state);
            CREATE TABLE tx_versions (
                tx_id         INTEGER NOT NULL REFERENCES txs(id),
                version       INTEGER NOT NULL,
                tx_hash       TEXT NOT NULL,
                raw_tx        BLOB NOT NULL,
                max_fee       TEXT NOT NULL,
                priority_fee  TEXT NOT NULL,
                created_ms    INTEGER NOT NULL,
                PRIMARY KEY (tx_id, version)
            );
            CREATE INDEX tx_versions_by_hash ON tx_versions (tx_hash);
            """),
            new(3, "rollup sync: cursor, synced sequences, rollup events (sequences.state 2 = inputs discarded, 3 = abandoned)", """
            CREATE TABLE sync_cursor (
                id          INTEGER PRIMARY KEY,
                block_num   INTEGER NOT NULL,
                block_hash  TEXT NOT NULL,
                updated_ms  INTEGER NOT NULL
            );
            CREATE TABLE sync_sequences (
                final_batch    INTEGER PRIMARY KEY,
                init_batch     INTEGER NOT NULL,
                block_num      INTEGER NOT NULL,
                block_hash     TEXT NOT NULL,
                tx_hash        TEXT NOT NULL,
                acc_input_hash BLOB NOT NULL,
                status         INTEGER NOT NULL,
                reason         TEXT,
                created_ms     INTEGER NOT NULL,
                updated_ms     INTEGER NOT NULL
            );
            CREATE INDEX sync_sequences_by_block ON sync_sequences (block_num);
            CREATE TABLE sync_events (
                block_num    INTEGER NOT NULL,
                log_index    INTEGER NOT NULL,
                block_hash   TEXT NOT NULL,
                kind         INTEGER NOT NULL,
                final_batch  INTEGER,
                account      TEXT,
                value        TEXT,
                PRIMARY KEY (block_num, log_index)
            );
            CREATE INDEX sync_events_by_sequence ON sync_events (final_batch, kind);
            """),
        new(4, "submissions: our two-step submission state per sequence", """
            CREATE TABLE submissions (
                final_batch    INTEGER PRIMARY KEY,
                init_batch     INTEGER NOT NULL,
                state          INTEGER NOT NULL,
                hash_attempt   INTEGER NOT NULL DEFAULT 0,
                proof_attempt  INTEGER NOT NULL DEFAULT 0,
                round_start    INTEGER,
                proof_hash     BLOB,
                retries        INTEGER NOT NULL DEFAULT 0,
                parked_reason  TEXT,
                last_error     TEXT,
                created_ms     INTEGER NOT NULL,
                updated_ms     INTEGER NOT NULL
            );
            CREATE INDEX submissions_by_state ON submissions (state, final_batch);
            """),
        new(5, "committed_proofs: every proof we committed a hash for, by (final batch, hash); never overwritten", """
            CREATE TABLE committed_proofs (
                final_batch         INTEGER NOT NULL,
                proof_hash          BLOB NOT NULL,
                init_batch          INTEGER NOT NULL,
                proof               TEXT NOT NULL,
                aggregator_addr     TEXT NOT NULL,
                new_state_root      BLOB NOT NULL,
                new_acc_input_hash  BLOB NOT NULL,
                new_local_exit_root BLOB NOT NULL,
                prover_name         TEXT NOT NULL,
                created_ms          INTEGER NOT NULL,
                PRIMARY KEY (final_batch, proof_hash)
            );
            """),
        new(6, "retention: pruned sequences, indexes for pruning by sequence and age and for the status counters", """
            ALTER TABLE sequences ADD COLUMN pruned INTEGER NOT NULL DEFAULT 0;
            CREATE INDEX sequences_unpruned ON sequences (final_batch) WHERE pruned = 0;
            CREATE INDEX batches_by_sequence ON batches (final_batch);
            CREATE INDEX tasks_by_sequence ON tasks (final_batch);
            CREATE INDEX tasks_by_state_kind ON tasks (state, kind);
            CREATE INDEX final_proofs_by_created ON final_proofs (created_ms);
            CREATE INDEX committed_proofs_by_created ON committed_proofs (created_ms);
            CREATE INDEX sync_events_by_kind ON sync_events (kind, final_batch);
            """),
        new(7, "replicas: the leader lease per miner (holder, fencing token, expiry in the database's clock), replica heartbeats", """
            CREATE TABLE leader_leases (
                miner       TEXT PRIMARY KEY,
                holder      TEXT NOT NULL,
                token       INTEGER NOT NULL,
                expires_at  TEXT NOT NULL,
                renewed_at  TEXT NOT NULL
            );
            CREATE TABLE replicas (
                miner       TEXT NOT NULL,
                replica_id  TEXT NOT NULL,
                role        TEXT NOT NULL,
                token       INTEGER,
                started_at  TEXT NOT NULL,
                last_seen   TEXT NOT NULL,
                PRIMARY KEY (miner, replica_id)
            );
            """),
        new(8, "replicas share the ready work: the replica that runs each assigned task, a notification when a task becomes ready or is taken, each replica's provers", """
            -- One SQLite process owns its tasks: the column is never written, and nothing listens for notifications.
            ALTER TABLE tasks ADD COLUMN owner TEXT;
            ALTER TABLE replicas ADD COLUMN provers TEXT NOT NULL DEFAULT '';
            """),
        new(9, "tx versions keep their own call (kind, to, data, value, gas limit): a mined earlier version is recorded as sent", """
            ALTER TABLE tx_versions ADD COLUMN kind TEXT;
            ALTER TABLE tx_versions ADD COLUMN to_addr TEXT;
            ALTER TABLE tx_versions ADD COLUMN data BLOB;
            ALTER TABLE tx_versions ADD COLUMN value_wei TEXT;
            ALTER TABLE tx_versions ADD COLUMN gas_limit INTEGER;
            """),
        new(10, "retention of our transactions: finished ones by age", """
            CREATE INDEX txs_finished_by_updated ON txs (updated_ms) WHERE state IN (4, 5);
            """),
        new(11, "retention of other miners' rollup events: the synced sequences whose events are pruned", """
            ALTER TABLE sync_sequences ADD COLUMN events_pruned INTEGER NOT NULL DEFAULT 0;
            CREATE INDEX sync_sequences_events_unpruned ON sync_sequences (final_batch) WHERE events_pruned = 0;
            """),
        new(12, "leader lease: whether the holder held the miner's session lock when it last took or renewed the lease", """
            ALTER TABLE leader_leases ADD COLUMN session_locked INTEGER NOT NULL DEFAULT 0;
            """),
    ];
}
