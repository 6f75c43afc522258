using System.Text.Json;
using System.Text.Json.Nodes;

namespace ZkPow.Aggregator.Chain;

public sealed partial class TxManager
{
    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await TickAsync(cancellationToken).ConfigureAwait(false);
                NodeUp();
            }
            catch (ChainUnavailableException e)
            {
                NodeDown(e);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Storage.FencedException e)
            {
                OnFenced(e);
                return;
            }
            catch (Exception e) when (e is EthRpcException or InvalidOperationException or FormatException or KeyNotFoundException
                or System.Data.Common.DbException or ObjectDisposedException)
            {
                LogTickFailed(e);
            }

            try
            {
                await Task.Delay(_options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One pass: head and account nonce, then receipts of everything sent or mined in one batch, then a step per transaction.</summary>
    private async Task TickAsync(CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        if (_open.IsEmpty)
        {
            return;
        }

        var status = await _rpc.BatchAsync([("eth_blockNumber", []), ("eth_getTransactionCount", [_sender, "latest"])], cancellationToken)
            .ConfigureAwait(false);
        if (status[0].Error is { } e0)
        {
            throw e0;
        }

        if (status[1].Error is { } e1)
        {
            throw e1;
        }

        // The highest head any endpoint has shown: a lagging backend never moves it back.
        var head = _rpc.ObserveHead(HexData.ParseUInt64(status[0].Result));
        var minedNonces = HexData.ParseUInt64(status[1].Result);

        // The node answers again after an outage: held kinds are held before any step could broadcast them.
        NodeUp();

        var entered = new List<Tracked>();
        foreach (var tracked in _open.Values)
        {
            if (tracked.TryEnter())
            {
                entered.Add(tracked);
            }
        }

        try
        {
            var queries = new List<(Tracked Tracked, string Hash)>();
            foreach (var tracked in entered)
            {
                var record = tracked.Record;
                if (record.State == TxState.Sent && record.Nonce < minedNonces)
                {
                    queries.AddRange(tracked.Hashes.Select(h => (tracked, h)));
                }
                else if (record.State == TxState.Mined && record.TxHash is { } minedHash)
                {
                    queries.Add((tracked, minedHash));
                }
            }

            var receipts = new Dictionary<Tracked, JsonElement>();
            // The head of the backend that answered the receipts, asked in the same batch: a receipt it does not have for a
            // block above its head says that it lags, not that a reorg took the block away.
            var receiptsHead = ulong.MaxValue;
            if (queries.Count > 0)
            {
                var replies = await _rpc.BatchAsync(
                    [("eth_blockNumber", []), .. queries.Select(q => ("eth_getTransactionReceipt", new JsonArray(q.Hash)))], cancellationToken)
                    .ConfigureAwait(false);
                ThrowFirstError(replies);
                receiptsHead = HexData.ParseUInt64(replies[0].Result);
                for (var i = 1; i < replies.Count; i++)
                {
                    if (!replies[i].IsNull && replies[i].Result.ValueKind == JsonValueKind.Object)
                    {
                        receipts.TryAdd(queries[i - 1].Tracked, replies[i].Result);
                    }
                }
            }

            await Task.WhenAll(entered.Select(t => StepAsync(t, head, minedNonces, receipts.TryGetValue(t, out var r) ? r : null, receiptsHead,
                cancellationToken))).ConfigureAwait(false);
        }
        finally
        {
            foreach (var tracked in entered)
            {
                tracked.Exit();
            }
        }
    }

    private async Task StepAsync(Tracked tracked, ulong head, ulong minedNonces, JsonElement? receipt, ulong receiptsHead,
        CancellationToken cancellationToken)
    {
        var record = tracked.Record;
        switch (record.State)
        {
            case TxState.Created:
                if (!tracked.Held)
                {
                    await PrepareAsync(tracked, broadcast: true, cancellationToken).ConfigureAwait(false);
                }

                break;

            case TxState.Signed:
                if (tracked.Held)
                {
                    break;
                }

                if (tracked.RefusedSinceMs >= 0 && NowMs - tracked.RefusedSinceMs >= StuckAfterMs(tracked))
                {
                    tracked.RefusedSinceMs = NowMs;
                    await ReplaceAsync(tracked, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await BroadcastAsync(tracked, rebroadcast: false, cancellationToken).ConfigureAwait(false);
                }

                break;

            case TxState.Sent:
                await StepSentAsync(tracked, head, minedNonces, receipt, receiptsHead, cancellationToken).ConfigureAwait(false);
                break;

            case TxState.Mined:
                await StepMinedAsync(tracked, head, receipt, receiptsHead, cancellationToken).ConfigureAwait(false);
                break;

            case TxState.Confirmed:
            case TxState.Failed:
                _open.TryRemove(record.Id, out _);
                Finish(tracked, record);
                break;

            default:
                throw new InvalidOperationException($"transaction {record.Key} has unknown state {record.State}");
        }
    }

    private async Task StepSentAsync(Tracked tracked, ulong head, ulong minedNonces, JsonElement? receipt, ulong receiptsHead,
        CancellationToken cancellationToken)
    {
        var record = tracked.Record;
        if (receipt is { } found)
        {
            tracked.NonceGoneSinceMs = -1;
            await OnMinedAsync(tracked, FromSent, found, head, cancellationToken).ConfigureAwait(false);
            return;
        }

        var now = NowMs;
        if (record.Nonce < minedNonces)
        {
            // The account is past this nonce, yet none of our versions has a receipt: a reorg in progress, or a
            // transaction signed elsewhere with this key took the nonce. Unless the backend that answered the receipts
            // lags behind the head: it may not have the block yet, and its answer says nothing.
            if (receiptsHead < head)
            {
                return;
            }

            if (tracked.NonceGoneSinceMs < 0)
            {
                tracked.NonceGoneSinceMs = now;
            }
            else if (now - tracked.NonceGoneSinceMs >= _options.StuckAfter.TotalMilliseconds)
            {
                LogNonceTaken(record.Key, record.Nonce.Value);
                await FailAsync(tracked, FromSent, null, $"nonce {record.Nonce} was used by a transaction this manager did not sign",
                    cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        tracked.NonceGoneSinceMs = -1;
        if (tracked.Held)
        {
            return; // Waiting for its owner's re-decision.
        }

        if (tracked.RebroadcastDue)
        {
            tracked.RebroadcastDue = false;
            await RebroadcastAsync(tracked, cancellationToken).ConfigureAwait(false);
            return;
        }

        var since = record.SentAt?.ToUnixTimeMilliseconds() ?? record.UpdatedAt.ToUnixTimeMilliseconds();
        var stuck = now - since >= StuckAfterMs(tracked);
        // The next nonce to be mined holds back every later one: whether the node still has it is looked at often (a
        // reorg that drops the block it was mined in before we saw its receipt, or a broadcast lost on the way, would
        // otherwise hold the account for StuckAfter).
        var look = record.Nonce == minedNonces && now - since >= QuickLookMs && now - tracked.LastLookMs >= QuickLookMs;
        if (!stuck && !look)
        {
            return;
        }

        tracked.LastLookMs = now;
        var known = await _rpc.CallAsync("eth_getTransactionByHash", [record.TxHash], cancellationToken).ConfigureAwait(false);
        if (!stuck && known.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
        {
            return; // Pending at the node: nothing to do before it counts as stuck.
        }

        if (known.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            LogDropped(record.Key, record.Nonce ?? 0, record.TxHash ?? "?");
            // A node drops a transaction whose fee cap fell under the base fee, and refuses it back as it is: offered again
            // as it is, it would be refused at every look while it holds back every later nonce. It is re-priced as a
            // stuck one is (within Chain:MaxFeePerGas; one with a deadline, urgent or a cancel, uncapped up to the
            // emergency cap).
            if (!await RebroadcastAsync(tracked, cancellationToken).ConfigureAwait(false))
            {
                await ReplaceAsync(tracked, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            await ReplaceAsync(tracked, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>For a mined transaction whose receipt a backend at or past its block did not give: its block and its
    /// receipt, from one backend. Returns the receipt when that backend has it; otherwise why the missing receipt is not a
    /// reorg (the backend lacks the block, or has the very block the transaction was mined in), or null when a different
    /// block is at that height (a reorg).</summary>
    private async Task<(JsonElement? Receipt, string? NotReorg)> CheckBlockAsync(TxRecord record, CancellationToken cancellationToken)
    {
        var replies = await _rpc.BatchAsync(
            [("eth_getBlockByNumber", [HexData.Quantity(record.BlockNumber!.Value), false]), ("eth_getTransactionReceipt", [record.TxHash])],
            cancellationToken).ConfigureAwait(false);
        ThrowFirstError(replies);
        if (!replies[1].IsNull && replies[1].Result.ValueKind == JsonValueKind.Object)
        {
            return (replies[1].Result, null);
        }

        if (replies[0].IsNull || replies[0].Result.ValueKind != JsonValueKind.Object)
        {
            return (null, "the node that answered does not have that block yet (it lags)");
        }

        var hash = replies[0].Result.TryGetProperty("hash", out var h) ? h.GetString() : null;
        return string.Equals(hash, record.BlockHash, StringComparison.OrdinalIgnoreCase)
            ? (null, "the node that answered has that very block but not its receipt yet")
            : (null, null);
    }

    /// <summary>A batch is read whole or not at all: the first call the node answered with an error fails it.</summary>
    private static void ThrowFirstError(IReadOnlyList<EthRpcReply> replies)
    {
        foreach (var reply in replies)
        {
            if (reply.Error is { } error)
            {
                throw error;
            }
        }
    }

    /// <summary>How often the node is asked whether it still has the next nonce to be mined: every two polls, at least a
    /// second apart, and no less often than a stuck urgent transaction is looked at.</summary>
    private double QuickLookMs => Math.Min(Math.Max(1000, 2 * _options.PollInterval.TotalMilliseconds), Math.Max(100, _options.StuckAfter.TotalMilliseconds / 3));

    /// <summary>How long a transaction may stay pending (or refused) before it is replaced: a third of
    /// <see cref="TxManagerOptions.StuckAfter"/> for an urgent one.</summary>
    private double StuckAfterMs(Tracked tracked) =>
        tracked.Urgent ? Math.Max(100, _options.StuckAfter.TotalMilliseconds / 3) : _options.StuckAfter.TotalMilliseconds;

    private async Task StepMinedAsync(Tracked tracked, ulong head, JsonElement? receipt, ulong receiptsHead, CancellationToken cancellationToken)
    {
        var record = tracked.Record;
        if (receipt is null)
        {
            if (receiptsHead < record.BlockNumber)
            {
                // The backend that answered is behind the block the transaction was mined in (a lagging node behind a
                // load balancer): it cannot know the receipt yet. The next poll asks again, maybe elsewhere.
                LogReceiptBehind(record.Key, record.Nonce ?? 0, record.BlockNumber ?? 0, receiptsHead);
                return;
            }

            // A backend at or past the block that has no receipt: the block may be gone (a reorg), or this backend has the
            // block but not yet its receipts (hosted providers index receipts after the block). The block is asked for,
            // with the receipt again, in one batch (one backend answers both): only a different block at that height is a
            // reorg.
            (receipt, var verdict) = await CheckBlockAsync(record, cancellationToken).ConfigureAwait(false);
            if (verdict is { } notReorg)
            {
                LogReceiptMissing(record.Key, record.Nonce ?? 0, record.BlockNumber ?? 0, notReorg);
                return;
            }
        }

        if (receipt is not { } found)
        {
            // The block that held it is gone: back to Sent, and hand it to the node again.
            var back = await _store.TransitionTxAsync(record.Id, FromMined, new TxChange(TxState.Sent) { ClearBlock = true, CountReorg = true },
                cancellationToken).ConfigureAwait(false);
            if (back is null)
            {
                await ResyncAsync(tracked, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                tracked.Record = back;
                LogReorged(record.Key, record.Nonce ?? 0, record.BlockNumber ?? 0);
                Hold(tracked, "reorg");
                if (!tracked.Held)
                {
                    await RebroadcastAsync(tracked, cancellationToken).ConfigureAwait(false);
                }
            }

            return;
        }

        var blockHash = found.GetProperty("blockHash").GetString();
        if (!string.Equals(blockHash, record.BlockHash, StringComparison.OrdinalIgnoreCase))
        {
            LogReorged(record.Key, record.Nonce ?? 0, record.BlockNumber ?? 0);
            var moved = await _store.TransitionTxAsync(record.Id, FromMined, new TxChange(TxState.Sent) { ClearBlock = true, CountReorg = true },
                cancellationToken).ConfigureAwait(false);
            if (moved is null)
            {
                await ResyncAsync(tracked, cancellationToken).ConfigureAwait(false);
                return;
            }

            tracked.Record = moved;
            await OnMinedAsync(tracked, FromSent, found, head, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (head + 1 >= record.BlockNumber!.Value + (ulong)_options.Confirmations)
        {
            await FinalizeAsync(tracked, FromMined, found, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A receipt appeared: Mined, or straight to final when it is already deep enough.</summary>
    private async Task OnMinedAsync(Tracked tracked, TxState[] from, JsonElement receipt, ulong head, CancellationToken cancellationToken)
    {
        var block = HexData.ParseUInt64(receipt.GetProperty("blockNumber"));
        if (head + 1 >= block + (ulong)_options.Confirmations)
        {
            await FinalizeAsync(tracked, from, receipt, cancellationToken).ConfigureAwait(false);
            return;
        }

        var mined = await _store.TransitionTxAsync(tracked.Record.Id, from, new TxChange(TxState.Mined)
        {
            TxHash = receipt.GetProperty("transactionHash").GetString(),
            BlockNumber = block,
            BlockHash = receipt.GetProperty("blockHash").GetString(),
            Succeeded = HexData.ParseQuantity(receipt.GetProperty("status")) == 1,
        }, cancellationToken).ConfigureAwait(false);
        if (mined is null)
        {
            await ResyncAsync(tracked, cancellationToken).ConfigureAwait(false);
            return;
        }

        tracked.Record = mined;
        LogMined(mined.Key, mined.Nonce ?? 0, mined.TxHash ?? "?", block);
    }

    /// <summary>
    /// Why a mined transaction failed. One that used at least 63/64 of its gas limit ran out of gas (a call that runs out
    /// leaves its caller at most 1/64; the contract's own reverts come from checks that use little gas): that is said
    /// first, since the replay cannot tell, being run on the state before the block, without the transactions ahead of
    /// it in the block (a reveal sent right behind our reveal of its predecessor replays as "predecessor not verified").
    /// Otherwise the revert of the replay, or that the replay did not revert.
    /// </summary>
    private async Task<ChainRevert> FailureOfAsync(TxRecord record, ulong block, ulong gasUsed, CancellationToken cancellationToken)
    {
        var outOfGas = ChainRevert.Decode(null, $"out of gas: used {gasUsed} of its gas limit {record.GasLimit}");
        if (record.GasLimit > 0 && gasUsed >= record.GasLimit - record.GasLimit / 64)
        {
            return outOfGas;
        }

        // A replay with the node's own gas that does not revert, of a transaction that used nearly all of its limit: it
        // ran out of gas all the same.
        var replay = await _rpc.EthCallAsync(_sender, record.To, record.Data, record.Value, HexData.Quantity(block == 0 ? 0 : block - 1),
            cancellationToken).ConfigureAwait(false);
        return replay.Revert ?? (record.GasLimit > 0 && gasUsed >= record.GasLimit * 9 / 10
            ? outOfGas
            : ChainRevert.Decode(null, $"reverted on chain; replaying it did not revert (used {gasUsed} of its gas limit {record.GasLimit})"));
    }

    /// <summary>Confirmed, or Failed with the revert reason replayed at the block before, or out of gas.</summary>
    private async Task FinalizeAsync(Tracked tracked, TxState[] from, JsonElement receipt, CancellationToken cancellationToken)
    {
        var record = tracked.Record;
        var block = HexData.ParseUInt64(receipt.GetProperty("blockNumber"));
        var succeeded = HexData.ParseQuantity(receipt.GetProperty("status")) == 1;
        var change = new TxChange(succeeded ? TxState.Confirmed : TxState.Failed)
        {
            TxHash = receipt.GetProperty("transactionHash").GetString(),
            BlockNumber = block,
            BlockHash = receipt.GetProperty("blockHash").GetString(),
            Succeeded = succeeded,
        };
        if (!succeeded)
        {
            var gasUsed = receipt.TryGetProperty("gasUsed", out var used) && HexData.TryParseUInt64(used, out var g) ? g : 0;
            change = change with
            {
                Revert = await FailureOfAsync(record, block, gasUsed, cancellationToken).ConfigureAwait(false),
                Error = "reverted on chain",
            };
        }

        var final = await _store.TransitionTxAsync(record.Id, from, change, cancellationToken).ConfigureAwait(false);
        if (final is null)
        {
            await ResyncAsync(tracked, cancellationToken).ConfigureAwait(false);
            return;
        }

        _open.TryRemove(final.Id, out _);
        Finish(tracked, final);
        if (succeeded)
        {
            LogConfirmed(final.Key, final.Nonce ?? 0, final.TxHash ?? "?", block);
        }
        else
        {
            LogFailedOnChain(final.Key, final.Nonce ?? 0, final.TxHash ?? "?", final.Revert?.ToString() ?? "?");
        }
    }

    /// <summary>
    /// A transition found the stored record in another state than the one tracked: this tracker is stale (a key submitted
    /// again read the record just before the loop finished it, and tracked that older copy; or another writer moved it).
    /// The tracker takes the stored state, and a final one ends it, so that no handle waits for a transition that can no
    /// longer happen.
    /// </summary>
    private async Task ResyncAsync(Tracked tracked, CancellationToken cancellationToken)
    {
        var stored = await _store.GetTxAsync(tracked.Record.Id, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return;
        }

        if (stored.State != tracked.Record.State)
        {
            LogResynced(stored.Key, tracked.Record.State.ToString(), stored.State.ToString());
        }

        tracked.Record = stored;
        if (stored.IsFinal)
        {
            _open.TryRemove(new KeyValuePair<long, Tracked>(stored.Id, tracked));
            Finish(tracked, stored);
        }
    }
}
