using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Rollup;

namespace ZkPow.Cli.Tests;

/// <summary>
/// The two-step submission survives a SIGKILL of the aggregator (<c>zkpow run</c>, a real child process) at each of its
/// steps: after the hash tx is sent, after it is mined, inside the proof window before the reveal, after the reveal is
/// sent. The process is killed by PID when the step is seen in its store (read-only) or on chain, and restarted on the
/// same store and configuration; the mock prover is another child process that reconnects by itself. The base chain is
/// mined by a pump that a test can pause. Every test ends with the same checks, from chain data: consecutive nonces for
/// all our txs, one hash and one reveal of ours per sequence, a reward per sequence, and no slash even after settle.
/// </summary>
public sealed partial class SenderCrashTests(ITestOutputHelper output)
{
    // The proof window (T2) is long so that no round can expire however slow the restarts are on a loaded machine.
    private const byte T1 = 4;
    private const byte T2 = 200;

    /// <summary>How long the chain is held still after a restart while a tx of ours is pending, so that a second tx sent
    /// by the restarted process would pass the pre-flight and reach the chain.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(1);

    /// <summary>The steps of the issue, which each test must hit at least once.</summary>
    private static readonly Step[] Required = [Step.HashSent, Step.HashMined, Step.ProofWindow, Step.RevealSent];

    private enum Step
    {
        /// <summary><c>submitProofHash</c> broadcast, not mined.</summary>
        HashSent,

        /// <summary>Our hash mined, before the proof window.</summary>
        HashMined,

        /// <summary>Inside the proof window, before the reveal is sent.</summary>
        ProofWindow,

        /// <summary><c>verifyBatches</c> broadcast, not mined.</summary>
        RevealSent,

        /// <summary>A <c>submitProofHash</c> stored by the tx manager (pre-flight, signing) but not yet handed to the node:
        /// a narrow moment, hit when the polling catches it (not required).</summary>
        HashStored,

        /// <summary>The same for <c>verifyBatches</c> (not required).</summary>
        RevealStored,
    }

    /// <summary>The chain is held still at each step (the pump paused) while the aggregator is killed and restarted, so
    /// every step is hit on every sequence.</summary>
    [Fact]
    public async Task an_aggregator_killed_at_every_step_of_the_submission_completes_it_with_no_duplicate_tx_and_no_slash()
    {
        var clock = Stopwatch.StartNew();
        await using var rig = await Rig.StartAsync(T1, T2);
        var (chain, pump, sequencer, db, config, prover) = (rig.Chain, rig.Pump, rig.Sequencer, rig.Db, rig.Config, rig.Prover);
        var miner = chain.Miners[0].Address;
        var hits = Enum.GetValues<Step>().ToDictionary(s => s, _ => 0);
        var logs = new List<string>();
        var sequences = new List<(ulong Init, ulong Final)>();
        var aggregator = await StartAggregatorAsync(config);
        try
        {
            // Every step is tried on every sequence; at least two sequences, more only if a step was missed (a race).
            while (sequences.Count < 2 || Required.Any(step => hits[step] == 0))
            {
                Assert.True(sequences.Count < 5, $"steps never hit after {sequences.Count} sequences: {Describe(hits)}");
                Assert.False(prover.HasExited, "the mock prover exited: " + prover.Stderr);
                pump.Resume();
                var sequence = await sequencer.SequenceNextAsync();
                await pump.PauseAsync();
                var final = sequence.FinalNewBatch;
                sequences.Add((sequence.InitNumBatch, final));

                // 1. The hash tx is broadcast and waits in the node's pool (no block is mined meanwhile).
                var hash = await WaitForTxAsync(db, "submitProofHash", final, aggregator);
                if (hash.State == (int)TxState.Sent && !await MinedAsync(chain, hash.TxHash))
                {
                    aggregator = await RestartAsync(aggregator, config, logs);
                    hits[Step.HashSent]++;
                    await Task.Delay(Settle); // The restarted process, with the old tx still pending: nothing new may go out.
                }

                // 2. One block: the hash is mined; the reveal cannot be sent before start + T1.
                await pump.MineAsync(1);
                await WaitUntilAsync(() => MinedAsync(chain, hash.TxHash), "the hash tx mined", aggregator);
                var round = (await chain.ReadAsync(chain.Contracts.Rollup, RollupCalls.ProverCommitProofHash(final, miner))).UInt64(1);
                Assert.True(round > 0, $"no commitment of ours to sequence {final} after its hash tx was mined");
                if (Txs(db, "verifyBatches", final).Count == 0)
                {
                    aggregator = await RestartAsync(aggregator, config, logs);
                    hits[Step.HashMined]++;
                }

                // 3. The block that opens the proof window, and the kill before the aggregator reacts to it.
                await pump.MineToAsync(round + T1 - 1);
                if (Txs(db, "verifyBatches", final).Count == 0)
                {
                    await pump.MineAsync(1);
                    aggregator.Kill();
                    logs.Add(aggregator.Stderr);
                    aggregator.Dispose();
                    var head = await chain.GetBlockNumberAsync();
                    if (Txs(db, "verifyBatches", final).Count == 0 && head >= round + T1 && head <= round + T1 + T2)
                    {
                        hits[Step.ProofWindow]++;
                    }

                    aggregator = await StartAggregatorAsync(config);
                }

                // 4. The reveal is broadcast and waits in the pool.
                var reveal = await WaitForTxAsync(db, "verifyBatches", final, aggregator);
                if (reveal.State == (int)TxState.Sent && !await MinedAsync(chain, reveal.TxHash))
                {
                    aggregator = await RestartAsync(aggregator, config, logs);
                    hits[Step.RevealSent]++;
                    await Task.Delay(Settle);
                }

                pump.Resume();
                await WaitUntilAsync(async () => await LastVerifiedAsync(chain) >= final, $"sequence {final} verified", aggregator);
            }

            // A last sequence with no kill: the restarted aggregator carries on as usual.
            pump.Resume();
            var last = await sequencer.SequenceNextAsync();
            sequences.Add((last.InitNumBatch, last.FinalNewBatch));
            await WaitUntilAsync(async () => await LastVerifiedAsync(chain) >= last.FinalNewBatch, "the last sequence verified", aggregator);
            logs.Add(aggregator.Stderr);

            await AssertOutcomeAsync(chain, miner, db, sequences, hits, logs.Count - 1, clock);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidOperationException($"{e.Message}\nsteps hit: {Describe(hits)}\naggregator said:\n{string.Join("\n--- restart ---\n", logs.Append(aggregator.Stderr))}", e);
        }
        finally
        {
            aggregator.Dispose();
        }
    }

    /// <summary>Blocks keep coming (also while the aggregator is down) and three sequences are in flight at once; the
    /// aggregator is killed the first time each step of each sequence is seen in the store or on chain.</summary>
    [Fact]
    public async Task an_aggregator_killed_at_each_step_while_blocks_keep_coming_and_sequences_overlap_completes_them_with_no_duplicate_tx_and_no_slash()
    {
        var clock = Stopwatch.StartNew();
        await using var rig = await Rig.StartAsync(T1, T2);
        var (chain, sequencer, db, config) = (rig.Chain, rig.Sequencer, rig.Db, rig.Config);
        var miner = chain.Miners[0].Address;
        var hits = Enum.GetValues<Step>().ToDictionary(s => s, _ => 0);
        var killed = new KillLog();
        var logs = new List<string>();
        var sequences = new List<(ulong Init, ulong Final)>();
        var aggregator = await StartAggregatorAsync(config);
        try
        {
            // Several sequences at once, so that hashes are committed ahead of their predecessors' verification.
            for (var i = 0; i < 3; i++)
            {
                var sequence = await sequencer.SequenceNextAsync();
                sequences.Add((sequence.InitNumBatch, sequence.FinalNewBatch));
            }

            // The kills are placed by what the store and the chain show, not by timing: a block that would end a step of
            // a sequence before the aggregator has been killed at it waits until it has been (however slow the machine).
            rig.Pump.HoldWhile = async () =>
            {
                if (killed.Down)
                {
                    return false; // The aggregator is down on purpose and waits for blocks.
                }

                var head = await chain.GetBlockNumberAsync();
                var lastVerified = await LastVerifiedAsync(chain);
                foreach (var (_, final) in killed.Snapshot(sequences).Where(s => s.Final > lastVerified))
                {
                    if (await NextBlockEndsAsync(chain, db, miner, final, head, step => killed.Contains(final, step)))
                    {
                        return true;
                    }
                }

                return false;
            };

            var watch = Stopwatch.StartNew();
            while (true)
            {
                Assert.False(rig.Prover.HasExited, "the mock prover exited: " + rig.Prover.Stderr);
                Assert.False(aggregator.HasExited, "the aggregator exited");
                Assert.True(watch.Elapsed < TimeSpan.FromMinutes(4), $"not every sequence verified in time; steps hit: {Describe(hits)}");
                var lastVerified = await LastVerifiedAsync(chain);
                if (lastVerified >= sequences[^1].Final)
                {
                    if (Required.All(step => hits[step] > 0) || sequences.Count >= 6)
                    {
                        break;
                    }

                    // A step was missed (the chain moved on before it was seen): try it again on one more sequence.
                    var more = await sequencer.SequenceNextAsync();
                    killed.Add(sequences, (more.InitNumBatch, more.FinalNewBatch));
                    continue;
                }

                var head = await chain.GetBlockNumberAsync();
                (ulong Final, Step Step)? kill = null;
                ulong? windowOpensAt = null;
                foreach (var (_, final) in killed.Snapshot(sequences).Where(s => s.Final > lastVerified))
                {
                    var seen = await ObserveAsync(chain, db, miner, final, head);
                    if (seen is { } step && !killed.Contains(final, step))
                    {
                        kill = (final, step);
                        break;
                    }

                    if (seen == Step.HashMined && !killed.Contains(final, Step.ProofWindow) &&
                        await WindowOpensAsync(chain, miner, final) is { } opens && head + 1 >= opens)
                    {
                        // The next block opens the proof window (the pump holds it): the aggregator is down when it comes.
                        kill = (final, Step.ProofWindow);
                        windowOpensAt = opens;
                        break;
                    }
                }

                if (kill is not { } k)
                {
                    await Task.Delay(5);
                    continue;
                }

                // The step is marked only once the process is dead, so the pump cannot end the step before the kill.
                aggregator.Kill();
                logs.Add(aggregator.Stderr);
                aggregator.Dispose();
                killed.Mark(k.Final, k.Step);
                if (windowOpensAt is { } window)
                {
                    killed.Down = true;
                    await WaitUntilAsync(async () => await chain.GetBlockNumberAsync() >= window, "the proof window to open", null);
                    killed.Down = false;
                    if (Txs(db, "verifyBatches", k.Final).Count == 0 && await chain.GetBlockNumberAsync() <= window + T2)
                    {
                        hits[Step.ProofWindow]++;
                    }
                }
                else
                {
                    hits[k.Step]++;
                }

                aggregator = await StartAggregatorAsync(config);
            }

            logs.Add(aggregator.Stderr);
            await AssertOutcomeAsync(chain, miner, db, sequences, hits, logs.Count - 1, clock);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidOperationException($"{e.Message}\nsteps hit: {Describe(hits)}\naggregator said:\n{string.Join("\n--- restart ---\n", logs.Append(aggregator.Stderr))}", e);
        }
        finally
        {
            aggregator.Dispose();
        }
    }

    /// <summary>Fifteen kills at random moments (start-up included) while sequences arrive, then one run to the end.
    /// The seed can be changed with the <c>SENDER_CRASH_SEED</c> environment variable.</summary>
    [Fact]
    public async Task an_aggregator_killed_at_random_moments_completes_every_sequence_with_no_duplicate_tx_and_no_slash()
    {
        var seed = int.Parse(Environment.GetEnvironmentVariable("SENDER_CRASH_SEED") ?? "7", CultureInfo.InvariantCulture);
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        await using var rig = await Rig.StartAsync(T1, T2);
        var (chain, sequencer, db, config) = (rig.Chain, rig.Sequencer, rig.Db, rig.Config);
        var miner = chain.Miners[0].Address;
        var logs = new List<string>();
        var sequences = new List<(ulong Init, ulong Final)>();
        ChildProcess? aggregator = null;
        try
        {
            var kills = 0;
            while (kills < 15)
            {
                if (sequences.Count < 6 && random.Next(2) == 0)
                {
                    var sequence = await sequencer.SequenceNextAsync();
                    sequences.Add((sequence.InitNumBatch, sequence.FinalNewBatch));
                }

                aggregator = ChildProcess.Zkpow("run", "--config", config);
                await Task.Delay(random.Next(300, 2500));
                aggregator.Kill();
                logs.Add(aggregator.Stderr);
                aggregator.Dispose();
                aggregator = null;
                kills++;
            }

            aggregator = await StartAggregatorAsync(config);
            while (sequences.Count < 6)
            {
                var sequence = await sequencer.SequenceNextAsync();
                sequences.Add((sequence.InitNumBatch, sequence.FinalNewBatch));
            }

            await WaitUntilAsync(async () => await LastVerifiedAsync(chain) >= sequences[^1].Final, "every sequence verified", aggregator);
            logs.Add(aggregator.Stderr);
            output.WriteLine($"seed {seed}: {sequences.Count} sequences, {kills} kills in {clock.Elapsed.TotalSeconds:F1} s");
            await AssertChainAsync(chain, miner, sequences);
            AssertStore(db, sequences);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidOperationException($"{e.Message}\naggregator said:\n{string.Join("\n--- restart ---\n", logs.Append(aggregator?.Stderr ?? ""))}", e);
        }
        finally
        {
            aggregator?.Dispose();
        }
    }

    /// <summary>The step the submission of <paramref name="final"/> is at now, from the store and the chain.</summary>
    private static async Task<Step?> ObserveAsync(DevChain chain, string db, string miner, ulong final, ulong head)
    {
        var stored = Txs(db, "verifyBatches", final).LastOrDefault();
        if (stored is { State: < (int)TxState.Sent })
        {
            return Step.RevealStored;
        }

        var storedHash = Txs(db, "submitProofHash", final).LastOrDefault();
        if (storedHash is { State: < (int)TxState.Sent })
        {
            return Step.HashStored;
        }

        var reveal = Txs(db, "verifyBatches", final).LastOrDefault(r => r.TxHash is not null);
        if (reveal is not null)
        {
            return reveal.State == (int)TxState.Sent && !await MinedAsync(chain, reveal.TxHash) ? Step.RevealSent : null;
        }

        var hash = Txs(db, "submitProofHash", final).LastOrDefault(r => r.TxHash is not null);
        if (hash is null)
        {
            return null;
        }

        if (!await MinedAsync(chain, hash.TxHash))
        {
            return Step.HashSent;
        }

        var round = (await chain.ReadAsync(chain.Contracts.Rollup, RollupCalls.ProverCommitProofHash(final, miner))).UInt64(1);
        return round > 0 && head >= round + T1 && head <= round + T1 + T2 ? Step.ProofWindow : Step.HashMined;
    }

    /// <summary>The block that opens the proof window of our commitment to <paramref name="final"/>, once it is mined.</summary>
    private static async Task<ulong?> WindowOpensAsync(DevChain chain, string miner, ulong final)
    {
        var round = (await chain.ReadAsync(chain.Contracts.Rollup, RollupCalls.ProverCommitProofHash(final, miner))).UInt64(1);
        return round > 0 ? round + T1 : null;
    }

    /// <summary>True if the next block would end a step of <paramref name="final"/> at which the aggregator has not been
    /// killed yet: our hash or reveal tx is in the pool (a block mines it), or the next block opens the proof window.</summary>
    private static async Task<bool> NextBlockEndsAsync(DevChain chain, string db, string miner, ulong final, ulong head, Func<Step, bool> killedAt)
    {
        switch (await ObserveAsync(chain, db, miner, final, head))
        {
            case Step.HashSent:
                return !killedAt(Step.HashSent);
            case Step.RevealSent:
                return !killedAt(Step.RevealSent);
            case Step.HashMined:
                return await WindowOpensAsync(chain, miner, final) is { } opens && head + 1 >= opens &&
                       (!killedAt(Step.HashMined) || !killedAt(Step.ProofWindow));
            default:
                return false;
        }
    }

    /// <summary>The sequences of a test and the steps at which the aggregator has been killed, shared with the block pump.</summary>
    private sealed class KillLog
    {
        private readonly Lock _gate = new();
        private readonly HashSet<(ulong Final, Step Step)> _killed = [];
        private volatile bool _down;

        /// <summary>True while the aggregator is down waiting for blocks: nothing is held back then.</summary>
        public bool Down
        {
            get => _down;
            set => _down = value;
        }

        public bool Contains(ulong final, Step step)
        {
            lock (_gate)
            {
                return _killed.Contains((final, step));
            }
        }

        public void Mark(ulong final, Step step)
        {
            lock (_gate)
            {
                _killed.Add((final, step));
            }
        }

        public void Add(List<(ulong Init, ulong Final)> sequences, (ulong Init, ulong Final) sequence)
        {
            lock (_gate)
            {
                sequences.Add(sequence);
            }
        }

        public List<(ulong Init, ulong Final)> Snapshot(List<(ulong Init, ulong Final)> sequences)
        {
            lock (_gate)
            {
                return [.. sequences];
            }
        }
    }

    /// <summary>What every step-kill test ends with: the chain and the store as they must be, and every step hit.</summary>
    private async Task AssertOutcomeAsync(DevChain chain, string miner, string db, List<(ulong Init, ulong Final)> sequences,
        Dictionary<Step, int> hits, int kills, Stopwatch clock)
    {
        output.WriteLine($"{sequences.Count} sequences, {kills} kills ({Describe(hits)}) in {clock.Elapsed.TotalSeconds:F1} s");
        await AssertChainAsync(chain, miner, sequences);
        AssertStore(db, sequences);
        Assert.All(Required, step => Assert.True(hits[step] > 0, $"step {step} never hit: {Describe(hits)}"));
    }

    /// <summary>From chain data alone: consecutive nonces for every tx of ours, one mined, successful hash and one mined,
    /// successful reveal of ours per sequence, every other tx of ours a cancel (a 0-value transfer to ourselves that freed
    /// the nonce of a hash tx re-decided after a restart), a reward per sequence and no slash (even after <c>settle</c>).</summary>
    private async Task AssertChainAsync(DevChain chain, string miner, List<(ulong Init, ulong Final)> sequences)
    {
        var settle = await chain.SendAsync(chain.Admin, chain.Contracts.Rollup, RollupCalls.Settle(miner));
        Assert.True(settle.Succeeded);
        var head = await chain.GetBlockNumberAsync();
        var hashSelector = HexData.Encode(RollupCalls.SubmitProofHash(0, 0, new byte[32]).AsSpan(0, 4));
        var revealSelector = HexData.Encode(RollupCalls.VerifyBatches(0, 0, new byte[32], new byte[32], []).AsSpan(0, 4));
        var ours = new List<(ulong Nonce, string Hash, string Input, string? To)>();
        for (var block = 0UL; block <= head; block++)
        {
            var json = await chain.Rpc.CallAsync("eth_getBlockByNumber", [HexData.Quantity(block), true], CancellationToken.None);
            foreach (var tx in json.GetProperty("transactions").EnumerateArray())
            {
                if (string.Equals(tx.GetProperty("from").GetString(), miner, StringComparison.OrdinalIgnoreCase))
                {
                    ours.Add(((ulong)HexData.ParseQuantity(tx.GetProperty("nonce")), tx.GetProperty("hash").GetString()!, tx.GetProperty("input").GetString()!,
                        tx.GetProperty("to").GetString()));
                }
            }
        }

        var count = (ulong)HexData.ParseQuantity(await chain.Rpc.CallAsync("eth_getTransactionCount", [miner, "latest"], CancellationToken.None));
        var nonces = ours.Select(t => t.Nonce).Order().ToList();
        Assert.Equal([.. Enumerable.Range(0, (int)count).Select(n => (ulong)n)], nonces);

        var rollupTxs = ours.Where(t => string.Equals(t.To, chain.Contracts.Rollup, StringComparison.OrdinalIgnoreCase)).ToList();
        foreach (var tx in rollupTxs)
        {
            var receipt = await chain.WaitForReceiptAsync(tx.Hash);
            Assert.True(receipt.Succeeded, $"our tx {tx.Hash} (nonce {tx.Nonce}, selector {tx.Input[..10]}) reverted");
        }

        ulong Final(string input) => new AbiWords(HexData.Decode("0x" + input[10..])).UInt64(1);
        var hashes = rollupTxs.Where(t => t.Input.StartsWith(hashSelector, StringComparison.OrdinalIgnoreCase)).GroupBy(t => Final(t.Input)).ToList();
        var reveals = rollupTxs.Where(t => t.Input.StartsWith(revealSelector, StringComparison.OrdinalIgnoreCase)).GroupBy(t => Final(t.Input)).ToList();
        Assert.Equal(sequences.Select(s => s.Final).Order(), hashes.Select(g => g.Key).Order());
        Assert.Equal(sequences.Select(s => s.Final).Order(), reveals.Select(g => g.Key).Order());
        Assert.All(hashes, g => Assert.True(g.Count() == 1, $"{g.Count()} submitProofHash txs of ours for sequence {g.Key}"));
        Assert.All(reveals, g => Assert.True(g.Count() == 1, $"{g.Count()} verifyBatches txs of ours for sequence {g.Key}"));
        Assert.Equal(rollupTxs.Count, hashes.Count + reveals.Count);
        var cancels = ours.Where(t => string.Equals(t.To, miner, StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.All(cancels, t => Assert.True(t.Input is "0x" or "", $"our tx {t.Hash} to ourselves is not a cancel"));
        output.WriteLine($"{hashes.Count} hashes, {reveals.Count} reveals and {cancels.Count} cancels of ours mined");

        using var rpc = new EthRpcClient(chain.RpcUrl, TimeSpan.FromSeconds(30));
        var events = await new RollupChainClient(rpc, chain.Contracts.Rollup).GetEventsAsync(0, await chain.GetBlockNumberAsync(), CancellationToken.None);
        Assert.DoesNotContain(events.OfType<SlashedEvent>(), e => string.Equals(e.Prover, miner, StringComparison.OrdinalIgnoreCase));
        foreach (var (_, final) in sequences)
        {
            Assert.Single(events.OfType<RewardPaidEvent>(), e => e.FinalNewBatch == final && string.Equals(e.Prover, miner, StringComparison.OrdinalIgnoreCase));
            var commitment = await chain.ReadAsync(chain.Contracts.Rollup, RollupCalls.ProverCommitProofHash(final, miner));
            Assert.True(commitment.Bool(2), $"our commitment to sequence {final} is not marked proved");
        }

        Assert.Equal(sequences[^1].Final, await LastVerifiedAsync(chain));
    }

    /// <summary>The store agrees: one tx row per kind and sequence (the first attempt's key), each mined, and every
    /// submission revealed.</summary>
    private static void AssertStore(string db, List<(ulong Init, ulong Final)> sequences)
    {
        foreach (var (_, final) in sequences)
        {
            foreach (var kind in new[] { "submitProofHash", "verifyBatches" })
            {
                // Earlier attempts may only be cancels (hash txs re-decided after a restart); the one that counts is mined.
                var rows = Txs(db, kind, final);
                var cancelled = rows.Where(r => r.Kind == TxRequest.CancelKind).ToList();
                var row = Assert.Single(rows, r => r.Kind == kind);
                Assert.Equal(rows.Count, cancelled.Count + 1);
                // A reveal of a commitment adopted from the chain (a kill after the hash tx was mined, before the store
                // learned it) goes out under a fresh attempt key, never one an earlier run may have used; it is adopted
                // once (the hash tx held from before the kill is recognised as mined, not re-decided as unsent).
                var attempts = Enumerable.Range(cancelled.Count, kind == "verifyBatches" ? 2 : 1);
                Assert.Contains(row.Key, attempts.Select(a => TxRequest.KeyFor(kind, final, a)));
                Assert.True(row.State is (int)TxState.Mined or (int)TxState.Confirmed, $"{row.Key} is in state {(TxState)row.State}");
                Assert.All(cancelled, c => Assert.True(c.State is (int)TxState.Mined or (int)TxState.Confirmed or (int)TxState.Failed,
                    $"cancel {c.Key} is in state {(TxState)c.State}"));
            }
        }

        using var connection = Open(db);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT final_batch, state FROM submissions;";
        using var reader = command.ExecuteReader();
        var states = new Dictionary<ulong, long>();
        while (reader.Read())
        {
            states[(ulong)reader.GetInt64(0)] = reader.GetInt64(1);
        }

        Assert.All(sequences, s => Assert.Equal(4L, states.GetValueOrDefault(s.Final, -1))); // SubmissionState.Revealed
    }

    private sealed record TxRow(string Key, string Kind, int State, string? TxHash);

    private static List<TxRow> Txs(string db, string kind, ulong final)
    {
        if (!File.Exists(db))
        {
            return [];
        }

        using var connection = Open(db);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT idem_key, kind, state, tx_hash FROM txs WHERE idem_key LIKE $key ORDER BY id;";
        command.Parameters.AddWithValue("$key", $"{kind}/{final.ToString(CultureInfo.InvariantCulture)}/%");
        using var reader = command.ExecuteReader();
        var rows = new List<TxRow>();
        while (reader.Read())
        {
            rows.Add(new TxRow(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
        }

        return rows;
    }

    private static SqliteConnection Open(string db)
    {
        var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=false");
        connection.Open();
        return connection;
    }

    /// <summary>Waits until a tx of this kind for this sequence has a hash (broadcast, or further).</summary>
    private static async Task<TxRow> WaitForTxAsync(string db, string kind, ulong final, ChildProcess aggregator)
    {
        TxRow? found = null;
        await WaitUntilAsync(() =>
        {
            found = Txs(db, kind, final).LastOrDefault(r => r.Kind == kind && r.TxHash is not null && r.State >= (int)TxState.Sent);
            return Task.FromResult(found is not null);
        }, $"a {kind} tx for sequence {final}", aggregator, pollMs: 5);
        return found!;
    }

    private static async Task<bool> MinedAsync(DevChain chain, string? txHash) =>
        txHash is not null &&
        (await chain.Rpc.CallAsync("eth_getTransactionReceipt", [txHash], CancellationToken.None)).ValueKind == JsonValueKind.Object;

    private static async Task<ulong> LastVerifiedAsync(DevChain chain) =>
        (await chain.ReadAsync(chain.Contracts.Rollup, RollupCalls.LastVerifiedBatch())).UInt64(0);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, ChildProcess? aggregator, int pollMs = 50)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.False(aggregator?.HasExited == true, $"the aggregator exited while waiting for {what}");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(45), $"timed out waiting for {what}");
            await Task.Delay(pollMs);
        }
    }

    private static async Task<ChildProcess> RestartAsync(ChildProcess aggregator, string config, List<string> logs)
    {
        aggregator.Kill();
        logs.Add(aggregator.Stderr);
        aggregator.Dispose();
        return await StartAggregatorAsync(config);
    }

    /// <summary>Starts <c>zkpow run</c> and waits until it has resumed its submissions and serves (its start line).</summary>
    private static async Task<ChildProcess> StartAggregatorAsync(string config)
    {
        var run = ChildProcess.Zkpow("run", "--config", config);
        var watch = Stopwatch.StartNew();
        while (!Started().IsMatch(run.Stderr))
        {
            if (run.HasExited || watch.Elapsed > TimeSpan.FromSeconds(60))
            {
                var stderr = run.Stderr;
                run.Dispose();
                Assert.Fail("the aggregator did not start: " + stderr);
            }

            await Task.Delay(20);
        }

        return run;
    }

    private static string Describe(Dictionary<Step, int> hits) => string.Join(", ", hits.Select(h => $"{h.Key}={h.Value}"));

    [GeneratedRegex(@"provers dial port \d+; status at http://")]
    private static partial Regex Started();

    /// <summary>The chain (mined by a <see cref="BlockPump"/>), the devnet rollup, the aggregator's configuration on
    /// a store in a temporary folder, and the mock prover as a child process dialling the aggregator's fixed port.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        private readonly TempDir _dir;
        private readonly DevnetRollupNode _node;

        private Rig(TempDir dir, DevChain chain, BlockPump pump, DevnetRollupNode node, DevnetSequencer sequencer, string config, ChildProcess prover)
        {
            _dir = dir;
            Chain = chain;
            Pump = pump;
            _node = node;
            Sequencer = sequencer;
            Config = config;
            Prover = prover;
        }

        public DevChain Chain { get; }
        public BlockPump Pump { get; }
        public DevnetSequencer Sequencer { get; }
        public string Db => _dir.File("aggregator.db");
        public string Config { get; }
        public ChildProcess Prover { get; }

        public static async Task<Rig> StartAsync(byte t1, byte t2)
        {
            var dir = new TempDir();
            var chain = await DevChain.StartAsync(new DevChainOptions { ManualMining = true, T1 = t1, T2 = t2 });
            var pump = new BlockPump(chain, TimeSpan.FromMilliseconds(250));
            var ledger = new DevnetRollupLedger();
            var node = await DevnetRollupNode.StartAsync(ledger, new DevnetRollupNodeOptions());
            var sequencer = new DevnetSequencer(chain, new DevnetSequencerOptions { MaxBatchesPerSequence = 2, BatchDataSize = 256 }, ledger,
                TimeProvider.System);
            var port = ChildProcess.FreePort();
            var config = dir.File("aggregator.json");
            await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
            {
                Sync = new { RollupNodeUrl = node.Url, Confirmations = 0, PollInterval = "100ms" },
                Store = new { SqlitePath = dir.File("aggregator.db") },
                Provers = new { Port = port, ForkId = 6 },
                Http = new { Port = 0 },
                Chain = new { chain.RpcUrl, RollupAddress = chain.Contracts.Rollup },
                ExpectedChainId = 31337,
                Key = new { DevPrivateKey = chain.Miners[0].PrivateKey },
                TxManager = new { Confirmations = 1, PollInterval = "50ms" },
                Generator = new { ReconnectGrace = "300ms" },
            }));
            var prover = ChildProcess.Zkpow("prover", "--aggregator", $"http://127.0.0.1:{port}", "--name", "crash", "--latency", "20ms",
                "--reconnect-delay", "100ms");
            return new Rig(dir, chain, pump, node, sequencer, config, prover);
        }

        public async ValueTask DisposeAsync()
        {
            Prover.Dispose();
            await Pump.DisposeAsync();
            await _node.DisposeAsync();
            await Chain.DisposeAsync();
            _dir.Dispose();
        }
    }

    /// <summary>Mines a block every interval unless paused; the test mines by hand while it is paused.</summary>
    private sealed class BlockPump : IAsyncDisposable
    {
        private readonly DevChain _chain;
        private readonly SemaphoreSlim _gate = new(1, 1);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private volatile bool _paused;

        public BlockPump(DevChain chain, TimeSpan interval)
        {
            _chain = chain;
            _loop = Task.Run(() => RunAsync(interval, _stop.Token));
        }

        private async Task RunAsync(TimeSpan interval, CancellationToken cancellationToken)
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(interval, cancellationToken);
                    await _gate.WaitAsync(cancellationToken);
                    try
                    {
                        if (!_paused && (HoldWhile is not { } hold || !await hold()))
                        {
                            await _chain.MineAsync(1, cancellationToken);
                        }
                    }
                    finally
                    {
                        _gate.Release();
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception e) when (e is ChainUnavailableException or EthRpcException or SqliteException)
                {
                    // anvil is going away.
                }
            }
        }

        /// <summary>Checked before each block: while it returns true, the pump mines nothing.</summary>
        public Func<Task<bool>>? HoldWhile { get; set; }

        /// <summary>Stops the pump; returns once no block is being mined by it.</summary>
        public async Task PauseAsync()
        {
            _paused = true;
            await _gate.WaitAsync();
            _gate.Release();
        }

        public void Resume() => _paused = false;

        public Task MineAsync(int blocks) => _chain.MineAsync(blocks);

        public Task MineToAsync(ulong block) => _chain.MineToAsync(block);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
            _gate.Dispose();
        }
    }
}
