using System.Globalization;
using System.Numerics;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Tests.Contracts;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary>A real process holding the tx manager is killed (SIGKILL by PID); a new manager on the same database finishes its work.</summary>
public sealed class TxCrashTests(ChainFixture fixture) : IClassFixture<ChainFixture>, IAsyncLifetime
{
    private DevChain _chain = null!;

    public async Task InitializeAsync() => _chain = await fixture.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task killed_between_storing_and_broadcasting_the_restart_sends_the_stored_transactions_unchanged()
    {
        var account = _chain.ExtraAccounts[0];
        var sink = _chain.ExtraAccounts[1].Address;
        var directory = NewDirectory();
        var firstNonce = await ChainRpc.NonceAsync(_chain, account.Address, "pending");
        var fromBlock = await _chain.GetBlockNumberAsync() + 1;

        IReadOnlyList<(int Index, ulong Nonce, string Hash)> stored;
        using (var child = CrashChild.Start(_chain.RpcUrl, Path.Combine(directory, "tx.db"), account, sink, 3, "store-only"))
        {
            stored = [.. (await child.ReadUntilAsync("STORED ", 3, TimeSpan.FromSeconds(30))).Select(Parse)];
            await child.ReadUntilAsync("HOLD", 1, TimeSpan.FromSeconds(10));
            child.KillHard();
        }

        Assert.Equal([firstNonce, firstNonce + 1, firstNonce + 2], stored.Select(s => s.Nonce));
        Assert.Equal(firstNonce, await ChainRpc.NonceAsync(_chain, account.Address, "pending"));
        Assert.Null(await ChainRpc.TransactionAsync(_chain, stored[0].Hash));

        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, account, directory: directory);
        var records = await WaitConfirmedAsync(h, 3);
        Assert.Equal(stored.Select(s => s.Hash), records.Select(r => r.TxHash));
        await AssertNoGapNoDuplicateAsync(account, firstNonce, fromBlock, 3);
    }

    [Fact]
    public async Task killed_while_sending_the_restart_completes_every_key_once_with_no_nonce_gap()
    {
        var account = _chain.ExtraAccounts[1];
        var sink = _chain.ExtraAccounts[0].Address;
        var directory = NewDirectory();
        var firstNonce = await ChainRpc.NonceAsync(_chain, account.Address, "pending");
        var fromBlock = await _chain.GetBlockNumberAsync() + 1;
        const int count = 30;

        using (var child = CrashChild.Start(_chain.RpcUrl, Path.Combine(directory, "tx.db"), account, sink, count, "send"))
        {
            await child.ReadUntilAsync("SENT ", 5, TimeSpan.FromSeconds(30));
            child.KillHard();
        }

        var sentBeforeKill = await ChainRpc.NonceAsync(_chain, account.Address, "pending") - firstNonce;
        Assert.InRange(sentBeforeKill, 5UL, (ulong)count);

        // The restarted miner submits the whole batch again: stored keys are returned as they are, the rest are new.
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, account, directory: directory);
        var submissions = new List<TxSubmission>();
        for (var i = 1; i <= count; i++)
        {
            submissions.Add(await h.Manager.SubmitAsync(TxHarness.Transfer($"crash/{i}", sink, i), default));
        }

        var bound = TimeSpan.FromSeconds(20);
        TxRecord[] records;
        try
        {
            records = await Task.WhenAll(submissions.Select(s => s.Handle.Completion.WaitAsync(bound)));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"waited {bound} for the {count} transactions to end; the state:\n"
                + await h.DescribeAsync(Enumerable.Range(1, count).Select(i => $"crash/{i}"), account.Address));
        }

        Assert.All(records, r => Assert.Equal(TxState.Confirmed, r.State));
        await AssertNoGapNoDuplicateAsync(account, firstNonce, fromBlock, count);
    }

    private async Task<IReadOnlyList<TxRecord>> WaitConfirmedAsync(TxHarness h, int count)
    {
        var records = new List<TxRecord>();
        for (var i = 1; i <= count; i++)
        {
            var key = $"crash/{i}";
            await TxHarness.WaitUntilAsync(async () => (await h.Store.GetTxAsync(key, default))?.State == TxState.Confirmed, TimeSpan.FromSeconds(10),
                $"{key} confirmed");
            records.Add((await h.Store.GetTxAsync(key, default))!);
        }

        return records;
    }

    /// <summary>On chain: exactly <paramref name="count"/> transactions from the account, nonces consecutive from
    /// <paramref name="firstNonce"/>, and each transfer value 1..count exactly once.</summary>
    private async Task AssertNoGapNoDuplicateAsync(DevAccount account, ulong firstNonce, ulong fromBlock, int count)
    {
        var sent = await ChainRpc.SentByAsync(_chain, account.Address, fromBlock);
        Assert.Equal(Enumerable.Range(0, count).Select(i => firstNonce + (ulong)i), sent.Select(s => s.Nonce).Order());
        Assert.Equal(Enumerable.Range(1, count).Select(i => new BigInteger(i)), sent.Select(s => s.Value).Order());
        Assert.Equal(firstNonce + (ulong)count, await ChainRpc.NonceAsync(_chain, account.Address, "pending"));
    }

    private static (int Index, ulong Nonce, string Hash) Parse(string line)
    {
        var parts = line.Split(' ');
        return (int.Parse(parts[1], CultureInfo.InvariantCulture), ulong.Parse(parts[2], CultureInfo.InvariantCulture), parts[3]);
    }

    private static string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"zkpow-crash-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        return directory;
    }
}
