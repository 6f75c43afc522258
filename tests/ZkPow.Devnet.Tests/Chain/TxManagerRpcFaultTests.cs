using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Faults;
using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Sync;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary>The tx manager on real anvil behind two independent fault proxies that fail ~20 % of the requests (503,
/// 429, -32603, stalls, replies lost after the request ran, truncated JSON; one answers head and latest reads 3 blocks
/// behind). On SQLite only: what fails here is the node, not the store (the same store traffic runs on both stores in
/// <see cref="TxManagerTests"/>).</summary>
public sealed class TxManagerRpcFaultTests(ChainFixture fixture, ITestOutputHelper output) : IClassFixture<ChainFixture>
{
    /// <summary>The retry settings of the fault tests: short request timeout, so stalls are noticed fast.</summary>
    internal static RpcRetryOptions FaultRetry { get; } = new()
    {
        RequestTimeout = TimeSpan.FromSeconds(1),
        CallBudget = TimeSpan.FromSeconds(30),
        RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        RetryMaxDelay = TimeSpan.FromMilliseconds(500),
    };

    /// <summary>A fault proxy as hosted providers fail: 503, 429, -32603, stalls of 1.5–3 s (longer than
    /// <see cref="FaultRetry"/>'s request timeout; the request then runs), replies lost or truncated after the request
    /// ran; with <paramref name="lagging"/> every head and <c>latest</c> read is answered 3 blocks behind.</summary>
    internal static async Task<RpcFaultProxy> StartProxyAsync(string upstream, double rate, int seed, bool lagging = false)
    {
        var proxy = await RpcFaultProxy.StartAsync(new RpcFaultProxyOptions
        {
            Upstream = new Uri(upstream),
            Rate = rate,
            Seed = seed,
            Kinds = [RpcFaultKind.Http503, RpcFaultKind.Http429, RpcFaultKind.RpcInternalError, RpcFaultKind.Stall, RpcFaultKind.LostReply, RpcFaultKind.Truncated],
            StallMin = TimeSpan.FromSeconds(1.5),
            StallMax = TimeSpan.FromSeconds(3),
            LagBlocks = 3,
        });
        proxy.Lagging = lagging;
        return proxy;
    }

    /// <summary>A transfer from the first extra account, mined through one fault proxy that injects nothing until the
    /// test switches a fault on.</summary>
    private sealed class MinedBehindProxy(RpcFaultProxy proxy, TxHarness harness, TxSubmission submission) : IAsyncDisposable
    {
        public RpcFaultProxy Proxy => proxy;

        public TxHarness Harness => harness;

        public TxSubmission Submission => submission;

        public static async Task<MinedBehindProxy> StartAsync(DevChain chain, string key, int seed, int confirmations)
        {
            var proxy = await StartProxyAsync(chain.RpcUrl, 0, seed);
            TxHarness? harness = null;
            try
            {
                var client = new EthRpcClient([proxy.Url], FaultRetry, SyncHarness.Loggers.CreateLogger<EthRpcClient>(), TimeProvider.System);
                harness = await TxHarness.StartAsync(chain.RpcUrl, chain.ExtraAccounts[0], TxHarness.FastOptions(confirmations: confirmations), client: client);
                var submission = await harness.Manager.SubmitAsync(TxHarness.Transfer(key, chain.ExtraAccounts[1].Address, 1), default);
                await harness.WaitForStateAsync(submission.Handle, TxState.Mined);
                return new MinedBehindProxy(proxy, harness, submission);
            }
            catch
            {
                if (harness is not null)
                {
                    await harness.DisposeAsync();
                }

                await proxy.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await harness.DisposeAsync();
            await proxy.DisposeAsync();
        }
    }

    /// <summary>With <paramref name="fault"/> switched on once the transaction is mined, and nothing mined meanwhile, twenty
    /// faulty answers must leave it Mined (no reorg, no rebroadcast); switched off, it confirms with none.</summary>
    private async Task StaysMinedWhileAsync(string key, RpcFaultKind kind, Action<RpcFaultProxy, bool> fault)
    {
        var chain = await fixture.ResetAsync();
        await using var m = await MinedBehindProxy.StartAsync(chain, key, seed: 3, confirmations: 6);
        var (proxy, h, submission) = (m.Proxy, m.Harness, m.Submission);

        fault(proxy, true);
        var before = proxy.Count(kind);
        // Twenty answers with the fault (each poll asks for the receipt), or the record leaving Mined (taken for a reorg).
        await TxHarness.WaitUntilAsync(async () => proxy.Count(kind) >= before + 20 || (await h.RecordAsync(submission.Handle)).State != TxState.Mined,
            TimeSpan.FromSeconds(30), $"20 answers with {kind}");
        var during = await h.RecordAsync(submission.Handle);
        Assert.Equal((TxState.Mined, 0, 0), (during.State, during.Reorgs, during.Rebroadcasts));

        fault(proxy, false);
        await chain.MineAsync(6);
        var record = await submission.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((TxState.Confirmed, 0, 0), (record.State, record.Reorgs, record.Rebroadcasts));
        Assert.DoesNotContain("lost to a reorg", h.Log.Tail(2000), StringComparison.Ordinal);
    }

    /// <summary>Head and latest reads, and the receipts of blocks above that, answered 3 blocks behind.</summary>
    [Fact]
    public Task a_backend_that_lags_behind_the_block_of_a_mined_transaction_is_not_taken_for_a_reorg() =>
        StaysMinedWhileAsync("lag/1", RpcFaultKind.Lag, (proxy, on) => proxy.Lagging = on);

    /// <summary>The receipts of the last 3 blocks answered as null, the head and the blocks current.</summary>
    [Fact]
    public Task a_backend_at_the_head_without_the_receipt_of_a_mined_transaction_is_not_taken_for_a_reorg() =>
        StaysMinedWhileAsync("receipt/1", RpcFaultKind.ReceiptMissing, (proxy, on) => proxy.ReceiptsMissing = on);

    [Fact]
    public async Task a_reorg_is_seen_through_a_backend_without_the_latest_receipts()
    {
        var chain = await fixture.ResetAsync();
        await using var m = await MinedBehindProxy.StartAsync(chain, "receipt/reorg", seed: 4, confirmations: 4);
        var (proxy, h, submission) = (m.Proxy, m.Harness, m.Submission);
        var mined = await h.RecordAsync(submission.Handle);

        // The backend has no recent receipts, and then the block that held the transaction is replaced by an empty one:
        // the block at that height now has another hash, which only a reorg explains.
        proxy.ReceiptsMissing = true;
        await chain.SetAutomineAsync(false);
        await chain.Rpc.CallAsync("anvil_reorg", [1, new System.Text.Json.Nodes.JsonArray()], default);
        await TxHarness.WaitUntilAsync(async () => (await h.RecordAsync(submission.Handle)).Reorgs >= 1, TimeSpan.FromSeconds(30), "the reorg to be seen");

        proxy.ReceiptsMissing = false;
        await TxHarness.WaitUntilAsync(async () => await ChainRpc.TransactionAsync(chain, mined.TxHash!) is not null, TimeSpan.FromSeconds(30),
            "the transaction back in the pool");
        await chain.MineAsync(4);
        var record = await submission.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((TxState.Confirmed, 1), (record.State, record.Reorgs));
        Assert.NotEqual(mined.BlockHash, record.BlockHash);
    }

    [Fact]
    public async Task transactions_are_mined_once_each_with_contiguous_nonces_through_failing_endpoints()
    {
        const int count = 20;
        const double failureRate = 0.2;
        var chain = await fixture.ResetAsync();
        var account = chain.ExtraAccounts[0];
        var sink = chain.ExtraAccounts[1].Address;
        await using var a = await StartProxyAsync(chain.RpcUrl, failureRate, seed: 1);
        await using var b = await StartProxyAsync(chain.RpcUrl, failureRate, seed: 2, lagging: true);
        var client = new EthRpcClient([a.Url, b.Url], FaultRetry, SyncHarness.Loggers.CreateLogger<EthRpcClient>(), TimeProvider.System);
        var startNonce = await ChainRpc.NonceAsync(chain, account.Address);
        var startBalance = await chain.GetBalanceAsync(sink);
        var clock = Stopwatch.StartNew();

        var options = TxHarness.FastOptions();
        options.StuckAfter = TimeSpan.FromSeconds(3);
        await using var h = await TxHarness.StartAsync(chain.RpcUrl, account, options, client: client);
        var submissions = new List<TxSubmission>();
        for (var i = 0; i < count; i++)
        {
            submissions.Add(await h.Manager.SubmitAsync(TxHarness.Transfer($"transfer/fault/{i}", sink, 1000 + i), default));
        }

        var records = await Task.WhenAll(submissions.Select(s => s.Handle.Completion.WaitAsync(TimeSpan.FromMinutes(2))));
        clock.Stop();

        Assert.All(records, r => Assert.Equal(TxState.Confirmed, r.State));
        Assert.Equal(Enumerable.Range(0, count).Select(i => startNonce + (ulong)i), records.Select(r => r.Nonce!.Value).Order());
        // Every nonce was used once, by our transaction: nothing was sent twice under another nonce.
        Assert.Equal(startNonce + count, await ChainRpc.NonceAsync(chain, account.Address));
        Assert.Equal(startBalance + Enumerable.Range(0, count).Sum(i => 1000 + i), await chain.GetBalanceAsync(sink));
        foreach (var record in records)
        {
            var receipt = await ChainRpc.ReceiptAsync(chain, record.TxHash!);
            Assert.Equal("0x1", receipt!.Value.GetProperty("status").GetString());
        }

        Assert.True(a.Injected + b.Injected > 0, "the proxies injected faults");
        output.WriteLine($"{count} txs confirmed in {clock.Elapsed.TotalSeconds:0.0}s at an injected failure rate of {failureRate:P0}: " +
                         $"{client.Transport.Calls} calls, {client.Transport.TransientFailures} transient failures, {client.Transport.Retries} retries; " +
                         $"replacements {records.Sum(r => r.Replacements)}, rebroadcasts {records.Sum(r => r.Rebroadcasts)}");
        output.WriteLine($"endpoint A: {a.Describe()}");
        output.WriteLine($"endpoint B (3 blocks behind on head and latest reads): {b.Describe()}");
    }
}
