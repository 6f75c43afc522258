using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Storage;
using ZkPow.Devnet.Chain;

namespace ZkPow.Devnet.Bench;

/// <summary>
/// Sends cheap transactions (<c>settle(self)</c>) through the transaction manager to a fresh anvil with automine, with
/// the manager's state in a temporary SQLite file at durable settings, and measures how many per second reach
/// confirmation.
/// </summary>
public sealed class TxBenchmark(TxBenchmarkOptions options, ILoggerFactory loggers)
{
    public async Task<TxBenchmarkResult> RunAsync(CancellationToken cancellationToken)
    {
        options.Validate();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0, Miners = 1, ExtraAccounts = 0 }, cancellationToken)
            .ConfigureAwait(false);
        var miner = chain.Miners[0];
        var directory = Path.Combine(Path.GetTempPath(), $"zkpow-txbench-{Guid.NewGuid():N}");
        var time = TimeProvider.System;
        try
        {
            await using var store = await SqliteStore.OpenAsync(
                new StoreOptions { SqlitePath = Path.Combine(directory, "tx.db"), SqliteSynchronous = options.SqliteSynchronous }, time, cancellationToken)
                .ConfigureAwait(false);
            using var rpc = new EthRpcClient(chain.RpcUrl, TimeSpan.FromSeconds(30));
            var manager = new TxManager(store, rpc, TxKey.FromDevKey(miner.PrivateKey),
                new TxManagerOptions { Confirmations = options.Confirmations, PollInterval = options.PollInterval },
                loggers.CreateLogger<TxManager>(), time);
            await using var managerScope = manager.ConfigureAwait(false);
            await manager.StartAsync(cancellationToken).ConfigureAwait(false);
            var firstNonce = (ulong)HexData.ParseQuantity(await chain.Rpc.CallAsync("eth_getTransactionCount", [miner.Address, "pending"], cancellationToken)
                .ConfigureAwait(false));
            var commitsBefore = store.Commits;
            var writesBefore = store.Writes;

            var data = RollupCalls.Settle(miner.Address);
            var submitMs = new double[options.Transactions];
            var confirmMs = new double[options.Transactions];
            var failed = 0;
            using var gate = new SemaphoreSlim(options.Concurrency);
            var clock = Stopwatch.StartNew();
            using var stopMining = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var topUp = MineTheLastBlocksAsync(chain, miner.Address, firstNonce + (ulong)options.Transactions, options.Confirmations - 1, stopMining.Token);

            async Task SendOneAsync(int i)
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                var started = clock.Elapsed.TotalMilliseconds;
                Task<TxRecord> completion;
                try
                {
                    var submission = await manager.SubmitAsync(new TxRequest($"bench/settle/{i}", "settle", chain.Contracts.Rollup, data), cancellationToken)
                        .ConfigureAwait(false);
                    submitMs[i] = clock.Elapsed.TotalMilliseconds - started;
                    completion = submission.Handle.Completion;
                }
                finally
                {
                    gate.Release();
                }

                var record = await completion.WaitAsync(cancellationToken).ConfigureAwait(false);
                confirmMs[i] = clock.Elapsed.TotalMilliseconds - started;
                if (record.State != TxState.Confirmed)
                {
                    Interlocked.Increment(ref failed);
                }
            }

            await Task.WhenAll(Enumerable.Range(0, options.Transactions).Select(SendOneAsync)).ConfigureAwait(false);
            clock.Stop();
            await stopMining.CancelAsync().ConfigureAwait(false);
            await topUp.ConfigureAwait(false);

            Array.Sort(submitMs);
            Array.Sort(confirmMs);
            return new TxBenchmarkResult
            {
                Transactions = options.Transactions,
                Concurrency = options.Concurrency,
                Confirmations = options.Confirmations,
                ElapsedMs = Math.Round(clock.Elapsed.TotalMilliseconds, 1),
                ConfirmedTxPerSecond = Math.Round((options.Transactions - failed) / clock.Elapsed.TotalSeconds, 1),
                SubmitP50Ms = Math.Round(Percentile(submitMs, 0.50), 2),
                SubmitP99Ms = Math.Round(Percentile(submitMs, 0.99), 2),
                ConfirmP50Ms = Math.Round(Percentile(confirmMs, 0.50), 2),
                ConfirmP99Ms = Math.Round(Percentile(confirmMs, 0.99), 2),
                Failed = failed,
                StoreCommits = store.Commits - commitsBefore,
                StoreWrites = store.Writes - writesBefore,
                SqliteSynchronous = store.Synchronous,
            };
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is harmless.
            }
        }
    }

    /// <summary>Automine makes a block per transaction; once the last one is mined, mine the blocks it needs to reach depth.</summary>
    private static async Task MineTheLastBlocksAsync(DevChain chain, string address, ulong finalNonce, int extraBlocks, CancellationToken cancellationToken)
    {
        if (extraBlocks <= 0)
        {
            return;
        }

        try
        {
            while (true)
            {
                var mined = (ulong)HexData.ParseQuantity(await chain.Rpc.CallAsync("eth_getTransactionCount", [address, "latest"], cancellationToken)
                    .ConfigureAwait(false));
                if (mined >= finalNonce)
                {
                    await chain.MineAsync(extraBlocks, cancellationToken).ConfigureAwait(false);
                    return;
                }

                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Done before the top-up was needed.
        }
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
