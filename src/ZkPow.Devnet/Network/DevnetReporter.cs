using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Npgsql;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Proof;

namespace ZkPow.Devnet.Network;

/// <summary>
/// Builds the <see cref="DevnetReport"/> of a devnet that is running or has run: sequences, verifications, commits,
/// reveals, rewards and slashes from the rollup contract's events; transactions and their outcome from the blocks;
/// proving figures from each miner's store.
/// </summary>
public sealed class DevnetReporter(EthRpcClient rpc, RollupChainClient chain, IReadOnlyList<DevnetMinerInfo> miners)
{
    private static readonly string s_submitProofHash = Selector(RollupCalls.SubmitProofHash(0, 0, new byte[32]));
    private static readonly string s_verifyBatches = Selector(RollupCalls.VerifyBatches(0, 0, new byte[32], new byte[32], []));
    private static readonly string s_deposit = Selector(ContractCalls.Deposit());
    private static readonly string s_withdraw = Selector(ContractCalls.Withdraw(0));

    public Task<DevnetReport> BuildAsync(IReadOnlyList<double>? hashBroadcastSamples, CancellationToken cancellationToken) =>
        BuildAsync(hashBroadcastSamples, null, null, cancellationToken);

    /// <param name="hashBroadcastSamples">hash broadcast latencies of in-process aggregators, or null.</param>
    /// <param name="faults">what the devnet injected (null: not known here, reported as none).</param>
    /// <param name="settleCalls"><c>settle</c> transactions the devnet sent, when known.</param>
    /// <param name="cancellationToken">stops the reading.</param>
    public async Task<DevnetReport> BuildAsync(IReadOnlyList<double>? hashBroadcastSamples, DevnetFaultReport? faults, int? settleCalls,
        CancellationToken cancellationToken)
    {
        var rollupAddress = chain.RollupAddress;
        var head = await chain.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
        var events = await chain.GetEventsAsync(0, head, cancellationToken).ConfigureAwait(false);
        var windows = await chain.GetProofWindowsAsync(cancellationToken).ConfigureAwait(false);
        var sequenced = events.OfType<SequenceBatchesEvent>().ToList();
        var verified = events.OfType<VerifyBatchesEvent>().ToList();
        var commits = events.OfType<SubmitProofHashEvent>().ToList();
        var rewards = events.OfType<RewardPaidEvent>().ToList();
        var slashes = events.OfType<SlashedEvent>().ToList();

        var timestamps = new Dictionary<ulong, ulong>();
        async Task<ulong> TimestampAsync(ulong block)
        {
            if (!timestamps.TryGetValue(block, out var ts))
            {
                var b = await rpc.CallAsync("eth_getBlockByNumber", [$"0x{block:x}", false], cancellationToken).ConfigureAwait(false);
                ts = Convert.ToUInt64(b.GetProperty("timestamp").GetString(), 16);
                timestamps[block] = ts;
            }

            return ts;
        }

        var sequencedAt = sequenced.GroupBy(e => e.NumBatch).ToDictionary(g => g.Key, g => g.Max(e => e.BlockNumber));
        var verifiedAt = verified.GroupBy(e => e.NumBatch).ToDictionary(g => g.Key, g => g.First());
        var latencyBlocks = new List<double>();
        var latencyMs = new List<double>();
        foreach (var (final, v) in verifiedAt)
        {
            if (sequencedAt.TryGetValue(final, out var at))
            {
                latencyBlocks.Add(v.BlockNumber - at);
                latencyMs.Add((double)(await TimestampAsync(v.BlockNumber).ConfigureAwait(false) - await TimestampAsync(at).ConfigureAwait(false)) * 1000);
            }
        }

        // Reveal delay: blocks from the moment a reveal could land (its window open and its predecessor verified)
        // to the block that holds it.
        long? revealDelayMax = null;
        foreach (var reward in rewards)
        {
            var forFinal = commits.Where(c => c.FinalNewBatch == reward.FinalNewBatch && c.BlockNumber <= reward.BlockNumber).ToList();
            if (forFinal.Count == 0)
            {
                continue;
            }

            var inWindow = forFinal.Where(c => reward.BlockNumber - c.BlockNumber <= (ulong)(windows.T1 + windows.T2)).ToList();
            var start = (inWindow.Count > 0 ? inWindow : forFinal).Min(c => c.BlockNumber);
            var open = start + windows.T1;
            var init = forFinal[0].InitNumBatch;
            if (init > 0 && verifiedAt.TryGetValue(init, out var predecessor) && predecessor.BlockNumber > open)
            {
                open = predecessor.BlockNumber;
            }

            var first = verifiedAt.TryGetValue(reward.FinalNewBatch, out var firstProof) ? firstProof : null;
            if (first is not null && first.TransactionHash != reward.TransactionHash)
            {
                continue; // a late reveal, paid after another miner's proof: not a measure of our reaction
            }

            var delay = (long)reward.BlockNumber - (long)open;
            revealDelayMax = revealDelayMax is null ? delay : Math.Max(revealDelayMax.Value, delay);
        }

        var (sent, failed, spending) = await CountTransactionsAsync(head, rollupAddress, cancellationToken).ConfigureAwait(false);
        var openCommitments = await DevnetCommitments.ReadAsync(rpc, chain, miners.Select(m => m.Address), head, windows, cancellationToken).ConfigureAwait(false);
        var proofs = new Dictionary<string, long> { ["batch"] = 0, ["aggregate"] = 0, ["final"] = 0 };
        long retried = 0;
        var (invalid, parkedTasks, parkedSequences) = (0, 0, 0);
        var minerReports = new List<DevnetMinerReport>();
        foreach (var miner in miners)
        {
            var mineCommits = commits.Where(c => string.Equals(c.Prover, miner.Address, StringComparison.OrdinalIgnoreCase)).ToList();
            var figures = miner.ConnectionString is { } connectionString
                ? await ReadPostgresStoreAsync(connectionString, miner.Address, mineCommits, cancellationToken).ConfigureAwait(false)
                : ReadStore(miner.StorePath, miner.Address, mineCommits);
            invalid += figures.Invalid;
            parkedTasks += figures.ParkedTasks;
            parkedSequences += figures.ParkedSequences;
            foreach (var (kind, count) in figures.Proofs)
            {
                proofs[kind] += count;
            }

            retried += figures.Retries;
            bool Mine(string account) => string.Equals(account, miner.Address, StringComparison.OrdinalIgnoreCase);
            var mineRewards = rewards.Where(r => Mine(r.Prover)).ToList();
            var spent = spending[miner.Address.ToLowerInvariant()];
            var bareHash = Median(spent.SubmitProofHashGas);
            var bareVerify = Median(spent.VerifyBatchesGas);
            long? bare = bareHash is { } h && bareVerify is { } v ? h + v : null;
            double? perSequence = verifiedAt.Count > 0 ? Math.Round((double)spent.GasUsed / verifiedAt.Count, 1) : null;
            var nonceCount = HexData.ParseQuantity((await rpc.CallAsync("eth_getTransactionCount", [miner.Address, "latest"], cancellationToken)
                .ConfigureAwait(false)).GetString()!);
            var nonceProblems = NonceProblems(spent.Nonces, (ulong)nonceCount);
            var otherCounts = sequencedAt.Keys.Order()
                .Select(f => new DevnetSequenceTxCount(f, spent.HashesBySequence.GetValueOrDefault(f), spent.RevealsBySequence.GetValueOrDefault(f)))
                .Where(c => c.SubmitProofHash != 1 || c.VerifyBatches != 1)
                .ToList();
            minerReports.Add(new DevnetMinerReport
            {
                Address = miner.Address,
                HashesCommitted = commits.Count(c => Mine(c.Prover)),
                ProofsRevealed = mineRewards.Count + slashes.Count(s => Mine(s.Prover) && s.Reason == 1),
                LateReveals = mineRewards.Count(r => verifiedAt.TryGetValue(r.FinalNewBatch, out var v) && v.TransactionHash != r.TransactionHash),
                RewardsWei = mineRewards.Aggregate(BigInteger.Zero, (a, r) => a + r.Amount).ToString(),
                Slashes = slashes.Count(s => Mine(s.Prover)),
                SequencesLostToCompetition = figures.Lost,
                CommitmentsOverdue = openCommitments.Count(c => c.Overdue && Mine(c.Miner)),
                CommitmentsOpen = openCommitments.Count(c => Mine(c.Miner)),
                NonceCount = (ulong)nonceCount,
                NoncesContiguous = nonceProblems.Count == 0,
                NonceProblems = nonceProblems,
                NoopCancels = spent.ByKind.GetValueOrDefault("cancel"),
                SequencesWithOneHashAndReveal = sequencedAt.Count - otherCounts.Count,
                SequencesWithOtherCounts = otherCounts,
                Gas = new DevnetGasReport
                {
                    Txs = spent.Txs,
                    TxsReverted = spent.Reverted,
                    TxsByKind = spent.ByKind,
                    StakeTxs = spent.StakeTxs,
                    StakeGas = spent.StakeGas,
                    GasUsed = spent.GasUsed,
                    EthSpentWei = spent.Wei.ToString(),
                    GasPerVerifiedSequence = perSequence,
                    WeiPerVerifiedSequence = verifiedAt.Count > 0 ? (spent.Wei / verifiedAt.Count).ToString() : null,
                    BareSubmitProofHashGas = bareHash,
                    BareVerifyBatchesGas = bareVerify,
                    BareGasPerSequence = bare,
                    GasRatio = perSequence is { } p && bare is > 0 ? Math.Round(p / bare.Value, 3) : null,
                },
            });
        }

        return new DevnetReport
        {
            SequencesSequenced = sequencedAt.Count,
            SequencesVerified = verifiedAt.Count,
            Slashes = slashes.Count,
            InvalidProofsCommitted = invalid,
            ParkedTasks = parkedTasks,
            ParkedSequences = parkedSequences,
            CommitmentsOverdue = openCommitments.Count(c => c.Overdue),
            CommitmentsOpen = openCommitments.Count,
            SettleCalls = settleCalls,
            Faults = faults ?? DevnetFaultReport.None,
            RewardsWei = rewards.Aggregate(BigInteger.Zero, (a, r) => a + r.Amount).ToString(),
            TxsSent = sent,
            TxsFailed = failed,
            ProofsGenerated = proofs,
            TasksRetried = retried,
            SequenceLatencyP50Blocks = Percentile(latencyBlocks, 0.5),
            SequenceLatencyP99Blocks = Percentile(latencyBlocks, 0.99),
            SequenceLatencyP50Ms = Percentile(latencyMs, 0.5),
            SequenceLatencyP99Ms = Percentile(latencyMs, 0.99),
            HashBroadcastP99Ms = hashBroadcastSamples is { Count: > 0 } samples ? Math.Round(Percentile([.. samples], 0.99)!.Value, 3) : null,
            HashBroadcastP50Ms = hashBroadcastSamples is { Count: > 0 } median ? Math.Round(Percentile([.. median], 0.50)!.Value, 3) : null,
            HashBroadcastSamples = hashBroadcastSamples?.Count ?? 0,
            RevealDelayBlocksMax = revealDelayMax,
            LastBlock = head,
            Miners = minerReports,
        };
    }

    /// <summary>
    /// Every transaction the miners sent to the rollup contract and how many of them reverted; and, per miner, every
    /// transaction from its address on the chain (reverted ones, cancels and replacements included) with its gas and fee.
    /// </summary>
    private async Task<(int Sent, int Failed, Dictionary<string, MinerSpending> Spending)> CountTransactionsAsync(
        ulong head, string rollupAddress, CancellationToken cancellationToken)
    {
        var spending = miners.Select(m => m.Address.ToLowerInvariant()).Distinct().ToDictionary(a => a, _ => new MinerSpending());
        var (sent, failed) = (0, 0);
        for (var block = 0UL; block <= head; block++)
        {
            var b = await rpc.CallAsync("eth_getBlockByNumber", [$"0x{block:x}", true], cancellationToken).ConfigureAwait(false);
            foreach (var tx in b.GetProperty("transactions").EnumerateArray())
            {
                if (tx.GetProperty("from").GetString() is not { } from || !spending.TryGetValue(from.ToLowerInvariant(), out var spent))
                {
                    continue;
                }

                var receipt = await rpc.CallAsync("eth_getTransactionReceipt", [tx.GetProperty("hash").GetString()], cancellationToken).ConfigureAwait(false);
                if (receipt.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var reverted = receipt.GetProperty("status").GetString() == "0x0";
                var gas = (long)HexData.ParseQuantity(receipt.GetProperty("gasUsed").GetString()!);
                var price = receipt.TryGetProperty("effectiveGasPrice", out var p) && p.GetString() is { } priceText
                    ? HexData.ParseQuantity(priceText)
                    : BigInteger.Zero;
                var to = tx.TryGetProperty("to", out var t) ? t.GetString() : null;
                var input = tx.TryGetProperty("input", out var i) ? i.GetString() ?? "0x" : "0x";
                var toRollup = string.Equals(to, rollupAddress, StringComparison.OrdinalIgnoreCase);
                var kind = !toRollup
                    ? string.Equals(to, from, StringComparison.OrdinalIgnoreCase) && input.Length <= 2 ? "cancel"
                    : input.StartsWith(s_deposit, StringComparison.OrdinalIgnoreCase) || input.StartsWith(s_withdraw, StringComparison.OrdinalIgnoreCase) ? "stake"
                    : "other"
                    : input.StartsWith(s_submitProofHash, StringComparison.OrdinalIgnoreCase) ? "submitProofHash"
                    : input.StartsWith(s_verifyBatches, StringComparison.OrdinalIgnoreCase) ? "verifyBatches"
                    : "otherRollupCall";
                spent.Add(kind, gas, gas * price, reverted);
                spent.Nonces.Add((ulong)HexData.ParseQuantity(tx.GetProperty("nonce").GetString()!));
                if (!reverted && kind is "submitProofHash" or "verifyBatches" && input.Length >= 2 + 8 + 128)
                {
                    // The second argument of both calls is finalNewBatch (a uint64 in a 32-byte word).
                    var final = ulong.Parse(input.AsSpan(2 + 8 + 128 - 16, 16), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
                    var counts = kind == "submitProofHash" ? spent.HashesBySequence : spent.RevealsBySequence;
                    counts[final] = counts.GetValueOrDefault(final) + 1;
                }
                if (toRollup)
                {
                    sent++;
                    failed += reverted ? 1 : 0;
                }
            }
        }

        return (sent, failed, spending);
    }

    /// <summary>What keeps <paramref name="nonces"/> (of mined transactions) from being 0..count-1, each once.</summary>
    private static List<string> NonceProblems(List<ulong> nonces, ulong count)
    {
        var problems = new List<string>();
        var used = nonces.GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
        for (var n = 0UL; n < count && problems.Count < 20; n++)
        {
            var times = used.GetValueOrDefault(n);
            if (times != 1)
            {
                problems.Add(times == 0 ? $"nonce {n} not mined" : $"nonce {n} used by {times} mined transactions");
            }
        }

        foreach (var extra in used.Keys.Where(n => n >= count).Order().Take(20 - problems.Count))
        {
            problems.Add($"nonce {extra} mined but beyond the account's count {count}");
        }

        return problems;
    }

    private static string Selector(byte[] call) => HexData.Encode(call.AsSpan(0, 4));

    private static long? Median(List<long> values)
    {
        if (values.Count == 0)
        {
            return null;
        }

        values.Sort();
        return values[(values.Count - 1) / 2];
    }

    /// <summary>What one miner's transactions cost.</summary>
    private sealed class MinerSpending
    {
        public int Txs { get; private set; }
        public int Reverted { get; private set; }
        public long GasUsed { get; private set; }
        public BigInteger Wei { get; private set; }
        public Dictionary<string, int> ByKind { get; } = [];
        public List<long> SubmitProofHashGas { get; } = [];
        public List<long> VerifyBatchesGas { get; } = [];
        public List<ulong> Nonces { get; } = [];
        public Dictionary<ulong, int> HashesBySequence { get; } = [];
        public Dictionary<ulong, int> RevealsBySequence { get; } = [];

        public int StakeTxs { get; private set; }
        public long StakeGas { get; private set; }

        public void Add(string kind, long gas, BigInteger wei, bool reverted)
        {
            if (kind == "stake")
            {
                // Staking is the miner's capital, not the cost of proving a sequence.
                StakeTxs++;
                StakeGas += gas;
                return;
            }

            Txs++;
            Reverted += reverted ? 1 : 0;
            GasUsed += gas;
            Wei += wei;
            ByKind[kind] = ByKind.GetValueOrDefault(kind) + 1;
            if (!reverted && kind == "submitProofHash")
            {
                SubmitProofHashGas.Add(gas);
            }
            else if (!reverted && kind == "verifyBatches")
            {
                VerifyBatchesGas.Add(gas);
            }
        }
    }

    private static StoreFigures ReadStore(string path, string minerAddress, IReadOnlyList<SubmitProofHashEvent> commits)
    {
        var proofs = new Dictionary<string, long> { ["batch"] = 0, ["aggregate"] = 0, ["final"] = 0 };
        if (!File.Exists(path))
        {
            return new StoreFigures(proofs, 0, 0, commits.Count, 0, 0);
        }

        using var db = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=false");
        db.Open();
        using (var command = db.CreateCommand())
        {
            // Every proof ever made counts, including ones later discarded.
            command.CommandText = "SELECT kind, COUNT(*) FROM tasks WHERE made_by IS NOT NULL GROUP BY kind;";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var kind = reader.GetInt32(0) switch { 0 => "batch", 1 => "aggregate", _ => "final" };
                proofs[kind] += reader.GetInt64(1);
            }
        }

        long Scalar(string sql)
        {
            using var command = db.CreateCommand();
            command.CommandText = sql;
            return command.ExecuteScalar() is long v ? v : 0;
        }

        // Every hash we committed is checked against the proof kept under it: a valid devnet proof bound to the miner.
        var miner = HexData.Decode(minerAddress);
        var invalid = 0;
        foreach (var commit in commits)
        {
            using var command = db.CreateCommand();
            command.CommandText = "SELECT proof FROM committed_proofs WHERE final_batch = $f AND proof_hash = $h;";
            command.Parameters.AddWithValue("$f", (long)commit.FinalNewBatch);
            command.Parameters.AddWithValue("$h", commit.ProofHash);
            var decoded = command.ExecuteScalar() is string proof ? DevnetFinalProofCodec.Decode(HexData.Decode(proof)) : null;
            if (decoded is not { Success: true } || DevnetVerifier.Check(decoded.Proof) is not null || !decoded.Proof.Aggregator.AsSpan().SequenceEqual(miner))
            {
                invalid++;
            }
        }

        return new StoreFigures(proofs, Scalar("SELECT COALESCE(SUM(attempts), 0) FROM tasks;"), (int)Scalar("SELECT COUNT(*) FROM sync_sequences WHERE status = 2;"),
            invalid, (int)Scalar("SELECT COUNT(*) FROM tasks WHERE state = 3;"), (int)Scalar("SELECT COUNT(*) FROM submissions WHERE state = 8;"));
    }

    private static async Task<StoreFigures> ReadPostgresStoreAsync(string connectionString, string minerAddress, IReadOnlyList<SubmitProofHashEvent> commits,
        CancellationToken cancellationToken)
    {
        var proofs = new Dictionary<string, long> { ["batch"] = 0, ["aggregate"] = 0, ["final"] = 0 };
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (var schema = new NpgsqlCommand("SELECT to_regclass('submissions') IS NULL;", db))
        {
            if ((bool)(await schema.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                return new StoreFigures(proofs, 0, 0, commits.Count, 0, 0); // no aggregator has created its tables yet
            }
        }

        await using (var command = new NpgsqlCommand("SELECT kind, COUNT(*) FROM tasks WHERE made_by IS NOT NULL GROUP BY kind;", db))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var kind = reader.GetInt32(0) switch { 0 => "batch", 1 => "aggregate", _ => "final" };
                proofs[kind] += reader.GetInt64(1);
            }
        }

        async Task<long> ScalarAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, db);
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
        }

        var miner = HexData.Decode(minerAddress);
        var invalid = 0;
        foreach (var commit in commits)
        {
            await using var command = new NpgsqlCommand("SELECT proof FROM committed_proofs WHERE final_batch = @f AND proof_hash = @h;", db);
            command.Parameters.AddWithValue("f", (long)commit.FinalNewBatch);
            command.Parameters.AddWithValue("h", commit.ProofHash);
            var decoded = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string proof
                ? DevnetFinalProofCodec.Decode(HexData.Decode(proof))
                : null;
            if (decoded is not { Success: true } || DevnetVerifier.Check(decoded.Proof) is not null || !decoded.Proof.Aggregator.AsSpan().SequenceEqual(miner))
            {
                invalid++;
            }
        }

        return new StoreFigures(proofs, await ScalarAsync("SELECT COALESCE(SUM(attempts), 0) FROM tasks;").ConfigureAwait(false),
            (int)await ScalarAsync("SELECT COUNT(*) FROM sync_sequences WHERE status = 2;").ConfigureAwait(false), invalid,
            (int)await ScalarAsync("SELECT COUNT(*) FROM tasks WHERE state = 3;").ConfigureAwait(false),
            (int)await ScalarAsync("SELECT COUNT(*) FROM submissions WHERE state = 8;").ConfigureAwait(false));
    }

    private sealed record StoreFigures(Dictionary<string, long> Proofs, long Retries, int Lost, int Invalid, int ParkedTasks, int ParkedSequences);

    /// <summary>The nearest-rank percentile <paramref name="p"/> (0..1) of the values (sorted in place), or null if there are none.</summary>
    internal static double? Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return null;
        }

        values.Sort();
        return values[Math.Min(values.Count - 1, (int)Math.Ceiling(p * values.Count) - 1)];
    }
}
