using System.Collections.Concurrent;
using System.Numerics;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace ZkPow.Aggregator.Chain;

/// <summary>
/// Sends the miner's transactions and sees each one through to confirmation. Every transaction is a persisted state
/// machine (<see cref="TxState"/>): it is stored as Created (its pre-flight reads already on their way), pre-flighted
/// with <c>eth_call</c> (a revert is answered at once, decoded, with no nonce used), signed with the sender's next
/// nonce in the same database transaction that stores the raw transaction, and only then broadcast. A background loop polls the head, the account nonce and receipts; it
/// re-broadcasts dropped transactions, replaces stuck ones with higher fees, follows reorgs back to Sent, and
/// confirms at depth. After a restart the stored raw transactions are broadcast again as they are: an old nonce is
/// never given to a different transaction except by a deliberate fee replacement or a cancel.
/// <para>Transactions of the kinds in <see cref="HeldKinds"/> (by default <c>submitProofHash</c>) that are not mined are
/// <b>held</b> after a restart, after a node outage and after a reorg drops them: the manager neither broadcasts nor
/// replaces them until their owner re-decides, with <see cref="Approve"/> (send it as it is) or <see cref="CancelAsync"/>
/// (free its nonce with a 0-value transfer to ourselves at a higher fee). A held transaction that the node mines
/// anyway is followed as usual.</para>
/// </summary>
public sealed partial class TxManager : IAsyncDisposable
{
    private static readonly TxState[] FromCreated = [TxState.Created];
    private static readonly TxState[] FromSignedOrSent = [TxState.Signed, TxState.Sent];
    private static readonly TxState[] FromSent = [TxState.Sent];
    private static readonly TxState[] FromSentOrMined = [TxState.Sent, TxState.Mined];
    private static readonly TxState[] FromMined = [TxState.Mined];
    private static readonly TxState[] FromOpen = [TxState.Signed, TxState.Sent, TxState.Mined];

    private readonly ITxStore _store;
    private readonly EthRpcClient _rpc;
    private readonly TxKey _key;
    private readonly TxManagerOptions _options;
    private readonly ILogger<TxManager> _logger;
    private readonly TimeProvider _time;
    private readonly string _sender;
    private readonly ConcurrentDictionary<long, Tracked> _open = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _feeGate = new();
    private readonly Lock _order = new();
    private readonly Dictionary<long, TaskCompletionSource> _turns = [];
    private readonly HashSet<long> _handedOver = [];
    private long _broadcastFloor = -1;
    private Task<FeeSuggestion>? _feeTask;
    private long _feeTaskAtMs;
    private Task _loop = Task.CompletedTask;
    private volatile bool _ready;
    private ulong _chainId;
    private volatile bool _nodeDown;
    private int _disposed;

    public TxManager(ITxStore store, EthRpcClient rpc, TxKey key, TxManagerOptions options, ILogger<TxManager> logger, TimeProvider time)
    {
        options.Validate();
        _store = store;
        _rpc = rpc;
        _key = key;
        _options = options;
        _logger = logger;
        _time = time;
        _sender = key.Address.ToLowerInvariant();
    }

    /// <summary>The sender's checksummed address (derived from the key): final proofs are bound to it.</summary>
    public string Address => _key.Address;

    /// <summary>Kinds whose unmined transactions are held after a restart, an outage or a reorg until their owner
    /// approves or cancels them. Change it before <see cref="StartAsync(CancellationToken)"/> only.</summary>
    public ISet<string> HeldKinds { get; } = new HashSet<string>(StringComparer.Ordinal) { "submitProofHash" };

    /// <summary>Transactions that are not final yet.</summary>
    public int InFlight => _open.Count;

    /// <summary>True between a failed call to the node and the next successful pass (an outage).</summary>
    internal bool NodeIsDown => _nodeDown;

    /// <summary>The node's chain id, once the manager has reached the node.</summary>
    public ulong ChainId => _chainId;

    /// <summary>
    /// Loads the unfinished transactions, reconciles the nonce with the node and re-broadcasts what was signed, then
    /// starts the polling loop. If the node cannot be reached yet, the loop keeps trying.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken) => StartAsync(runLoop: true, cancellationToken);

    /// <summary>As <see cref="StartAsync(CancellationToken)"/>; without the loop (<paramref name="runLoop"/> false) nothing
    /// happens in the background, for crash tests that stop a process between storing and broadcasting.</summary>
    internal async Task StartAsync(bool runLoop, CancellationToken cancellationToken)
    {
        foreach (var record in await _store.LoadOpenTxsAsync(_sender, cancellationToken).ConfigureAwait(false))
        {
            var tracked = Track(record);
            tracked.Hashes = [.. await _store.GetTxHashesAsync(record.Id, cancellationToken).ConfigureAwait(false)];
            Hold(tracked, "restart");
        }

        LogLoaded(Address, _open.Count);
        try
        {
            await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChainUnavailableException e)
        {
            NodeDown(e);
        }

        if (runLoop)
        {
            _loop = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);
        }
    }

    /// <summary>
    /// Submits a transaction: idempotent on <see cref="TxRequest.Key"/> (the existing transaction is returned). Returns
    /// once it is pre-flighted, signed, stored and handed to the node (its Sent mark is written right after, the
    /// transaction staying busy for the loop until then), or rejected by the pre-flight. If the node is unreachable the
    /// transaction stays Created and the loop carries on with it.
    /// </summary>
    public Task<TxSubmission> SubmitAsync(TxRequest request, CancellationToken cancellationToken) => SubmitAsync(request, null, cancellationToken);

    /// <summary>
    /// Starts the pre-flight reads of <paramref name="request"/> (the <c>eth_call</c>, the gas estimate, the fees) ahead of
    /// its <see cref="SubmitAsync(TxRequest, Preflight?, CancellationToken)"/>, while the caller reads what decides whether
    /// to send it at all. Reads only: nothing is stored or signed. Null while the manager has not reached the node.
    /// </summary>
    internal Preflight? StartPreflight(TxRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _ready
            ? StartPreflight(request.Kind, request.To, request.Data, request.Value, request.GasLimit ?? 0, cancellationToken, request.SkipPreflightCall)
            : null;
    }

    /// <summary>As <see cref="SubmitAsync(TxRequest, CancellationToken)"/>, with the pre-flight reads that
    /// <see cref="StartPreflight(TxRequest, CancellationToken)"/> started for this request; reads for another call, or
    /// older than one poll interval, are dropped and made again.</summary>
    internal async Task<TxSubmission> SubmitAsync(TxRequest request, Preflight? reads, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        request.Validate();

        // The pre-flight reads go to the node while the Created record is written: they read the chain only, and nothing
        // is signed before both are done (a key that exists already just wastes the reads).
        var ahead = reads is not null && reads.IsFor(request) && NowMs - reads.StartedAtMs <= _options.PollInterval.TotalMilliseconds;
        var early = ahead ? reads : StartPreflight(request, cancellationToken);
        TxCreateResult created;
        using (AggregatorTracing.Sender.StartActivity("tx.store_created"))
        {
            created = await _store.CreateTxAsync(request, _sender, cancellationToken).ConfigureAwait(false);
        }

        var tracked = await TrackAsync(created, cancellationToken).ConfigureAwait(false);
        if (created.Created && tracked.TryEnter())
        {
            // Returns as soon as the node has the transaction (its raw form was stored before): the Sent mark is
            // bookkeeping, written right after, with the transaction still entered so that the loop waits for it.
            var handedOver = new TaskCompletionSource();
            tracked.HandedOver = handedOver;
            var prepare = PrepareThenExitAsync(tracked, early, ahead, cancellationToken);
            await Task.WhenAny(prepare, handedOver.Task).ConfigureAwait(false);
            if (prepare.IsCompleted)
            {
                await prepare.ConfigureAwait(false);
            }
            else
            {
                _ = prepare.ContinueWith(t => LogSentMarkFailed(tracked.Record.Key, t.Exception!.GetBaseException()), CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }

        return Submission(tracked);
    }

    private async Task PrepareThenExitAsync(Tracked tracked, Preflight? early, bool ahead, CancellationToken cancellationToken)
    {
        try
        {
            await PrepareAsync(tracked, broadcast: true, cancellationToken, early, ahead).ConfigureAwait(false);
        }
        catch (ChainUnavailableException e)
        {
            NodeDown(e);
        }
        finally
        {
            tracked.HandedOver = null;
            tracked.Exit();
        }
    }

    /// <summary>
    /// Pre-flights, signs and stores a transaction without broadcasting it (the loop, or a restart, broadcasts it).
    /// For crash tests: a process killed after this returns has a signed transaction that no node has seen.
    /// </summary>
    internal async Task<TxSubmission> SubmitWithoutBroadcastAsync(TxRequest request, CancellationToken cancellationToken)
    {
        request.Validate();
        var created = await _store.CreateTxAsync(request, _sender, cancellationToken).ConfigureAwait(false);
        var tracked = await TrackAsync(created, cancellationToken).ConfigureAwait(false);
        if (created.Created && tracked.TryEnter())
        {
            try
            {
                await PrepareAsync(tracked, broadcast: false, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                tracked.Exit();
            }
        }

        return Submission(tracked);
    }

    /// <summary>
    /// Runs the steps of a submission once without storing or sending anything, so that the first real transaction does
    /// not pay for their first run (code compiled, the fee cache filled): the pre-flight reads of a 0-value transfer to
    /// ourselves, a signature of it (thrown away, never stored: it uses no nonce), the store's write paths in a database
    /// transaction that is rolled back, and the broadcast path with a read. Needs the node (call it after
    /// <see cref="StartAsync(CancellationToken)"/>); a failure is raised to the caller.
    /// </summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var reads = StartPreflight(TxRequest.CancelKind, Address, [], BigInteger.Zero, 0, cancellationToken);
        await AllDoneAsync(reads).ConfigureAwait(false);
        var (call, estimate, fees) = reads;
        _ = await call.ConfigureAwait(false);
        var (gasLimit, _) = await estimate.ConfigureAwait(false);
        var dryRun = _key.Sign(_chainId, 0, Address, BigInteger.Zero, [], Math.Max(gasLimit, CancelGas), (await fees.ConfigureAwait(false)).Capped);
        await _store.WarmUpWritesAsync(_sender, dryRun, cancellationToken).ConfigureAwait(false);
        await _rpc.WarmUpBroadcastAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The stored transaction for <paramref name="key"/>, or null.</summary>
    public Task<TxRecord?> GetAsync(string key, CancellationToken cancellationToken) => _store.GetTxAsync(key, cancellationToken);

    /// <summary>The transactions held for a re-decision (see <see cref="HeldKinds"/>), lowest nonce first.</summary>
    public IReadOnlyList<TxRecord> HeldTransactions() =>
        [.. _open.Values.Where(t => t.Held).Select(t => t.Record).OrderBy(r => r.Nonce ?? ulong.MaxValue)];

    /// <summary>Whether the transaction under <paramref name="key"/> is held for a re-decision.</summary>
    public bool IsHeld(string key) => Find(key) is { Held: true };

    /// <summary>Releases a held transaction: it is broadcast (again) as it is. False if it is not held.</summary>
    public bool Approve(string key)
    {
        if (Find(key) is not { Held: true } tracked)
        {
            return false;
        }

        tracked.RebroadcastDue = true;
        tracked.Held = false;
        LogApproved(key);
        return true;
    }

    /// <summary>Marks an open transaction urgent (a deadline is near): its fee bumps come sooner, and bid at least the
    /// node's fee suggestion uncapped, up to <see cref="TxManagerOptions.EmergencyMaxFeePerGas"/>. Every open transaction of
    /// ours with a lower nonce that is not mined is marked urgent with it: it blocks this one whatever this one bids. In
    /// memory only: mark it again after a restart.</summary>
    public void MarkUrgent(string key)
    {
        if (Find(key) is not { } tracked)
        {
            return;
        }

        if (!tracked.Urgent)
        {
            tracked.Urgent = true;
            LogUrgent(key, tracked.Record.Nonce ?? 0);
        }

        if (tracked.Record.Nonce is not { } nonce)
        {
            return;
        }

        foreach (var before in _open.Values)
        {
            var record = before.Record;
            if (!before.Urgent && record.Nonce < nonce && record.State is TxState.Signed or TxState.Sent)
            {
                before.Urgent = true;
                LogUrgentBefore(record.Key, record.Nonce.Value, key);
            }
        }
    }

    /// <summary>
    /// Cancels a transaction that is not mined: one never signed fails at once (no nonce used); a signed one is replaced by
    /// a 0-value transfer to ourselves on the same nonce at a higher fee (up to
    /// <see cref="TxManagerOptions.EmergencyMaxFeePerGas"/>), and becomes kind <see cref="TxRequest.CancelKind"/>. If the
    /// original is mined first (even unseen, before a restart) the cancel fails as a replacement ("nonce too low"), the
    /// original's receipt is followed as usual and the transaction is recorded as the original that was mined (its kind,
    /// call and hash), so the caller must look at the chain or the final record (<see cref="FollowAsync"/>). Returns the
    /// transaction as it then stands, or null if it is unknown or already mined.
    /// </summary>
    public async Task<TxRecord?> CancelAsync(string key, CancellationToken cancellationToken)
    {
        var tracked = Find(key);
        if (tracked is null)
        {
            return null;
        }

        var waited = 0;
        while (!tracked.TryEnter())
        {
            if (++waited > 500)
            {
                throw new InvalidOperationException($"transaction {key} stayed busy; cancel it later");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), _time, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var record = tracked.Record;
            switch (record.State)
            {
                case TxState.Created:
                    tracked.Held = false;
                    await FailAsync(tracked, FromCreated, null, "cancelled before it was signed", cancellationToken).ConfigureAwait(false);
                    LogCancelled(key, 0, "never signed");
                    return tracked.Record;
                case TxState.Signed:
                case TxState.Sent:
                    break;
                default:
                    return null;
            }

            await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
            var suggested = await SuggestFeesAsync(cancellationToken).ConfigureAwait(false);
            var fees = ReplacementFees(record.Fees!.Value, suggested, deadline: true);
            var signed = _key.Sign(_chainId, record.Nonce!.Value, Address, BigInteger.Zero, [], CancelGas, fees);
            var cancelled = await WatchFenceAsync(_store.StoreCancelAsync(record.Id, signed, Address, cancellationToken)).ConfigureAwait(false);
            if (cancelled is null)
            {
                return null;
            }

            tracked.Record = cancelled;
            tracked.Hashes.Add(signed.Hash);
            tracked.Held = false;
            LogCancelled(key, record.Nonce.Value, fees.ToString());
            await BroadcastAsync(tracked, rebroadcast: false, cancellationToken).ConfigureAwait(false);
            return tracked.Record;
        }
        finally
        {
            tracked.Exit();
        }
    }

    private const ulong CancelGas = 21_000;

    /// <summary>
    /// A handle on the transaction under <paramref name="key"/>, whatever its state: its <see cref="TxHandle.Completion"/>
    /// ends with the transaction as stored once it is final. After <see cref="CancelAsync"/> that is the cancel, or the
    /// original (its kind, call and hash) if the original was mined first. Null if no transaction has that key.
    /// </summary>
    public async Task<TxHandle?> FollowAsync(string key, CancellationToken cancellationToken)
    {
        if (Find(key) is { } open)
        {
            return new TxHandle(open.Record.Id, key, open.Done.Task);
        }

        // Not open: final already (an open transaction is tracked from its creation or from the start).
        var stored = await _store.GetTxAsync(key, cancellationToken).ConfigureAwait(false);
        return stored switch
        {
            null => null,
            { IsFinal: true } => new TxHandle(stored.Id, key, Task.FromResult(stored)),
            _ => Find(key) is { } tracked ? new TxHandle(tracked.Record.Id, key, tracked.Done.Task) : null,
        };
    }

    private Tracked? Find(string key) => _open.Values.FirstOrDefault(t => string.Equals(t.Record.Key, key, StringComparison.Ordinal));

    /// <summary>Holds an unmined transaction of a held kind for a re-decision by its owner.</summary>
    private void Hold(Tracked tracked, string why)
    {
        if (!tracked.Held && HeldKinds.Contains(tracked.Record.Kind) && tracked.Record.State is TxState.Created or TxState.Signed or TxState.Sent)
        {
            tracked.Held = true;
            LogHeld(tracked.Record.Key, tracked.Record.Nonce ?? 0, why);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        _stopping.Dispose();
    }

    // ------------------------------------------------------------------ submission

    private Tracked Track(TxRecord record)
    {
        if (record.IsFinal)
        {
            var done = new Tracked(record);
            done.Done.TrySetResult(record);
            return _open.TryRemove(record.Id, out var live) ? Finish(live, record) : done;
        }

        return _open.GetOrAdd(record.Id, _ => new Tracked(record));
    }

    /// <summary>
    /// Tracks what a submission found or created. A key submitted again was read from the store before it was tracked:
    /// if no tracker was live by then, the one added here is checked against the store, since the loop may have finished
    /// (and dropped) the live one in between, and an older copy would wait for a transition that can no longer happen.
    /// </summary>
    private async Task<Tracked> TrackAsync(TxCreateResult created, CancellationToken cancellationToken)
    {
        var tracked = Track(created.Record);
        if (created.Created || created.Record.IsFinal || !ReferenceEquals(tracked.Record, created.Record) || !tracked.TryEnter())
        {
            return tracked;
        }

        try
        {
            tracked.Hashes = [.. await _store.GetTxHashesAsync(created.Record.Id, cancellationToken).ConfigureAwait(false)];
            await ResyncAsync(tracked, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            tracked.Exit();
        }

        return tracked;
    }

    private static TxSubmission Submission(Tracked tracked)
    {
        var record = tracked.Record;
        var handle = new TxHandle(record.Id, record.Key, tracked.Done.Task);
        var rejected = record is { State: TxState.Failed, Nonce: null } ? record.Revert : null;
        return new TxSubmission(handle, rejected);
    }

    /// <summary>The pre-flight call, the gas estimate and the fees: independent reads, one round trip instead of three. Their
    /// failures are observed at once (reads that end up unused are dropped, failed or not).</summary>
    private Preflight StartPreflight(string kind, string to, byte[] data, BigInteger value, ulong gasLimit, CancellationToken cancellationToken,
        bool skipCall = false) =>
        Preflight.Observed(new(skipCall ? Task.FromResult(ChainCallResult<byte[]>.Ok([])) : _rpc.EthCallAsync(_sender, to, data, value, "latest", cancellationToken),
            gasLimit == 0 ? EstimateGasAsync(kind, to, data, value, cancellationToken) : Task.FromResult<(ulong, ChainRevert?)>((gasLimit, null)),
            SuggestFeesAsync(cancellationToken))
        {
            To = to,
            Data = data,
            Value = value,
            GasLimit = gasLimit,
            StartedAtMs = NowMs,
        });

    private static async Task AllDoneAsync(Preflight reads)
    {
        try
        {
            await Task.WhenAll(reads.Call, reads.Estimate, reads.Fees).ConfigureAwait(false);
        }
        catch (Exception) when (reads.Call.IsCompleted && reads.Estimate.IsCompleted && reads.Fees.IsCompleted)
        {
            // Each read's own failure is raised by the caller, in order of importance.
        }
    }

    private static bool IsRevert(Task<ChainCallResult<byte[]>> call) => call.IsCompletedSuccessfully && !call.Result.Succeeded;

    private static bool IsRevert(Task<(ulong GasLimit, ChainRevert? Revert)> estimate) =>
        estimate.IsCompletedSuccessfully && estimate.Result.Revert is not null;

    /// <summary>Created → pre-flight → Signed (→ Sent). Called with the transaction entered; <paramref name="early"/>: the
    /// pre-flight reads of this very transaction, started while its Created record was written, or before the submission
    /// (<paramref name="ahead"/>: a revert is then read again, on the chain as it is now).</summary>
    private async Task PrepareAsync(Tracked tracked, bool broadcast, CancellationToken cancellationToken, Preflight? early = null, bool ahead = false)
    {
        if (!_ready || tracked.Record.State != TxState.Created)
        {
            return;
        }

        var record = tracked.Record;
        using var preflightSpan = AggregatorTracing.Sender.StartActivity("tx.preflight");
        var reads = early ?? StartPreflight(record.Kind, record.To, record.Data, record.Value, record.GasLimit, cancellationToken);
        await AllDoneAsync(reads).ConfigureAwait(false);
        if (ahead && (IsRevert(reads.Call) || IsRevert(reads.Estimate)))
        {
            // Reads made ahead of the submission only ever let a transaction through: a revert is read again.
            reads = StartPreflight(record.Kind, record.To, record.Data, record.Value, record.GasLimit, cancellationToken);
            await AllDoneAsync(reads).ConfigureAwait(false);
        }

        var (preflightTask, estimateTask, feesTask) = reads;
        var preflight = await preflightTask.ConfigureAwait(false);
        if (!preflight.Succeeded)
        {
            await FailAsync(tracked, FromCreated, preflight.Revert!, null, cancellationToken).ConfigureAwait(false);
            LogRejected(record.Key, preflight.Revert!.ToString());
            return;
        }

        var (gasLimit, estimateRevert) = await estimateTask.ConfigureAwait(false);
        if (estimateRevert is not null)
        {
            await FailAsync(tracked, FromCreated, estimateRevert, null, cancellationToken).ConfigureAwait(false);
            LogRejected(record.Key, estimateRevert.ToString());
            return;
        }

        var fees = (await feesTask.ConfigureAwait(false)).Capped;
        preflightSpan?.Dispose();
        var chainId = _chainId;
        TxRecord? signed;
        using (AggregatorTracing.Sender.StartActivity("tx.sign_and_store"))
        {
            signed = await WatchFenceAsync(_store.StoreSignedAsync(record.Id, _sender,
                nonce => _key.Sign(chainId, nonce, record.To, record.Value, record.Data, gasLimit, fees), cancellationToken)).ConfigureAwait(false);
        }

        if (signed is null)
        {
            return;
        }

        tracked.Record = signed;
        tracked.Hashes.Add(signed.TxHash!);
        LogSigned(signed.Key, signed.Nonce!.Value, signed.TxHash!, fees.ToString());
        if (broadcast)
        {
            using (AggregatorTracing.Sender.StartActivity("tx.broadcast"))
            {
                await BroadcastInNonceOrderAsync(tracked, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Broadcasts a freshly signed transaction after the ones with lower nonces (signed concurrently) have been handed
    /// to the node, so that the node never sees a nonce gap in normal operation; waits at most one poll interval for them.
    /// </summary>
    private async Task BroadcastInNonceOrderAsync(Tracked tracked, CancellationToken cancellationToken)
    {
        var nonce = (long)tracked.Record.Nonce!.Value;
        Task turn;
        lock (_order)
        {
            if (nonce <= _broadcastFloor + 1)
            {
                turn = Task.CompletedTask;
            }
            else
            {
                var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _turns[nonce] = waiter;
                turn = waiter.Task;
            }
        }

        try
        {
            if (!turn.IsCompleted)
            {
                await Task.WhenAny(turn, Task.Delay(_options.PollInterval, _time, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }

            await BroadcastAsync(tracked, rebroadcast: false, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_order)
            {
                _turns.Remove(nonce);
                _handedOver.Add(nonce);
                while (_handedOver.Remove(_broadcastFloor + 1))
                {
                    _broadcastFloor++;
                }

                if (_turns.TryGetValue(_broadcastFloor + 1, out var next))
                {
                    next.TrySetResult();
                }
            }
        }
    }

    /// <summary>Hands the stored raw transaction to the node; Signed → Sent once the node has it. False if the node
    /// refused it.</summary>
    private async Task<bool> BroadcastAsync(Tracked tracked, bool rebroadcast, CancellationToken cancellationToken)
    {
        var record = tracked.Record;
        var refused = false;
        try
        {
            // With several replicas on one database: only while our leader lease is still the current one, checked
            // in the database now (a replica paused past its lease sends nothing when it resumes).
            await WatchFenceAsync(_store.CheckFenceAsync(cancellationToken)).ConfigureAwait(false);
            // To every endpoint; idempotent by hash: "already known", a lost reply or "nonce too low" for this very
            // transaction are resolved by looking the hash up, never by signing anything new.
            await _rpc.SendRawTransactionAsync(record.RawTx!, cancellationToken).ConfigureAwait(false);
        }
        catch (EthRpcException e) when (IsAlreadyKnown(e.RpcMessage))
        {
            // The node has it (or has mined this nonce): receipts will tell.
        }
        catch (EthRpcException e)
        {
            LogBroadcastRefused(record.Key, record.Nonce ?? 0, e.RpcMessage);
            if (record.State == TxState.Signed)
            {
                // Keep it Signed; the loop tries again, and replaces it once it counts as stuck.
                tracked.RefusedSinceMs = tracked.RefusedSinceMs < 0 ? NowMs : tracked.RefusedSinceMs;
                return false;
            }

            refused = true;
        }

        tracked.RefusedSinceMs = -1;
        tracked.HandedOver?.TrySetResult();
        var sent = await _store.TransitionTxAsync(record.Id, FromSignedOrSent,
            new TxChange(TxState.Sent) { Broadcast = true, CountRebroadcast = rebroadcast }, cancellationToken).ConfigureAwait(false);
        if (sent is not null)
        {
            tracked.Record = sent;
        }
        else
        {
            await ResyncAsync(tracked, cancellationToken).ConfigureAwait(false);
        }

        return !refused;
    }

    /// <summary>Signs the same nonce again with higher fees, stores it, then broadcasts it.</summary>
    private async Task ReplaceAsync(Tracked tracked, CancellationToken cancellationToken)
    {
        var record = tracked.Record;
        var old = record.Fees!.Value;
        var suggested = await SuggestFeesAsync(cancellationToken).ConfigureAwait(false);
        var target = ReplacementFees(old, suggested, deadline: tracked.Urgent || record.Kind == TxRequest.CancelKind);
        var minimum = old.BumpedBy(10m);
        if (target.MaxFeePerGas < minimum.MaxFeePerGas || target.MaxPriorityFeePerGas < minimum.MaxPriorityFeePerGas)
        {
            LogAtFeeCap(record.Key, record.Nonce ?? 0, old.ToString());
            await RebroadcastAsync(tracked, cancellationToken).ConfigureAwait(false);
            return;
        }

        var signed = _key.Sign(_chainId, record.Nonce!.Value, record.To, record.Value, record.Data, record.GasLimit, target);
        var replaced = await WatchFenceAsync(_store.StoreReplacementAsync(record.Id, signed, cancellationToken)).ConfigureAwait(false);
        if (replaced is null)
        {
            return;
        }

        tracked.Record = replaced;
        tracked.Hashes.Add(signed.Hash);
        LogReplaced(record.Key, record.Nonce.Value, record.TxHash ?? "?", signed.Hash, target.ToString());
        await BroadcastAsync(tracked, rebroadcast: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The fees of a replacement of a transaction signed with <paramref name="old"/>: both raised by
    /// <see cref="TxManagerOptions.FeeBumpPercent"/>, or to the node's suggestion if that is higher. A transaction with a
    /// <paramref name="deadline"/> (a reveal near its round's end, a cancel that keeps a stale hash off the chain) takes the
    /// suggestion uncapped, up to <see cref="TxManagerOptions.EmergencyMaxFeePerGas"/>: with the base fee above
    /// <see cref="TxManagerOptions.MaxFeePerGas"/>, bumps alone would climb too slowly, and a slash costs more than gas.
    /// Any other stays under <see cref="TxManagerOptions.MaxFeePerGas"/>.
    /// </summary>
    private TxFees ReplacementFees(TxFees old, FeeSuggestion suggested, bool deadline)
    {
        var bumped = old.BumpedBy(_options.FeeBumpPercent);
        var (suggestion, cap) = deadline ? (suggested.Uncapped, _options.EmergencyMaxFeePerGas) : (suggested.Capped, _options.MaxFeePerGas);
        var maxFee = BigInteger.Min(BigInteger.Max(bumped.MaxFeePerGas, suggestion.MaxFeePerGas), cap);
        var tip = BigInteger.Min(BigInteger.Max(bumped.MaxPriorityFeePerGas, suggestion.MaxPriorityFeePerGas), maxFee);
        return old.Legacy ? new TxFees(maxFee, maxFee, true) : new TxFees(maxFee, tip, false);
    }

    /// <summary>Broadcasts the current version again; false if the node refused it.</summary>
    private async Task<bool> RebroadcastAsync(Tracked tracked, CancellationToken cancellationToken)
    {
        // After a reorg the current version may differ from the one that was mined: broadcast the current one.
        var record = tracked.Record;
        var currentHash = HexData.Encode(Abi.Keccak(record.RawTx!));
        if (!string.Equals(record.TxHash, currentHash, StringComparison.OrdinalIgnoreCase))
        {
            tracked.Record = record with { TxHash = currentHash };
        }

        return await BroadcastAsync(tracked, rebroadcast: true, cancellationToken).ConfigureAwait(false);
    }

    private async Task FailAsync(Tracked tracked, TxState[] from, ChainRevert? revert, string? error, CancellationToken cancellationToken)
    {
        var failed = await _store.TransitionTxAsync(tracked.Record.Id, from, new TxChange(TxState.Failed) { Revert = revert, Error = error },
            cancellationToken).ConfigureAwait(false);
        if (failed is not null)
        {
            tracked.Record = failed;
            _open.TryRemove(failed.Id, out _);
            Finish(tracked, failed);
        }
        else
        {
            await ResyncAsync(tracked, cancellationToken).ConfigureAwait(false);
        }
    }

    private static Tracked Finish(Tracked tracked, TxRecord record)
    {
        tracked.Record = record;
        tracked.Done.TrySetResult(record);
        return tracked;
    }

    // ------------------------------------------------------------------ node

    /// <summary>Reads the chain id, reconciles the nonce with the node's pending nonce and re-broadcasts stored raw transactions.</summary>
    private async Task EnsureReadyAsync(CancellationToken cancellationToken)
    {
        if (_ready)
        {
            return;
        }

        var chainId = HexData.ParseUInt64(await _rpc.CallAsync("eth_chainId", cancellationToken).ConfigureAwait(false));
        if (_key.IsDevKey && !TxKey.DevnetChainIds.Contains(chainId))
        {
            throw new InvalidOperationException($"a raw dev key is refused on chain {chainId}: use an encrypted keystore");
        }

        var pending = HexData.ParseUInt64(await _rpc.CallAsync("eth_getTransactionCount", [_sender, "pending"], cancellationToken).ConfigureAwait(false));
        var next = await _store.ReconcileNonceAsync(_sender, pending, cancellationToken).ConfigureAwait(false);
        _chainId = chainId;
        lock (_order)
        {
            // Nonces below the next one were signed before this start: they are re-broadcast below, not in order.
            _broadcastFloor = Math.Max(_broadcastFloor, (long)next - 1);
        }

        LogReconciled(Address, chainId, pending, next);

        foreach (var tracked in _open.Values.Where(t => t.Record.State is TxState.Signed or TxState.Sent && !t.Held).OrderBy(t => t.Record.Nonce))
        {
            if (tracked.TryEnter())
            {
                try
                {
                    await RebroadcastAsync(tracked, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    tracked.Exit();
                }
            }
        }

        _ready = true;
    }

    /// <summary>The gas limit for a transaction (the node's estimate times the multiplier of its kind, see
    /// <see cref="TxManagerOptions.GasLimitMultipliers"/>), or the revert that the estimate ran into.</summary>
    private async Task<(ulong GasLimit, ChainRevert? Revert)> EstimateGasAsync(string kind, string to, byte[] data, BigInteger value,
        CancellationToken cancellationToken)
    {
        var multiplier = _options.GasLimitMultipliers.TryGetValue(kind, out var own) ? own : _options.GasLimitMultiplier;
        try
        {
            var estimate = HexData.ParseQuantity(await _rpc.CallAsync("eth_estimateGas",
                [EthRpcClient.CallObject(_sender, to, data, value)], cancellationToken).ConfigureAwait(false));
            return ((ulong)Math.Ceiling((double)estimate * multiplier), null);
        }
        catch (EthRpcException e) when (e.IsRevert)
        {
            return (0, ChainRevert.Decode(e.ErrorData, e.RpcMessage));
        }
    }

    /// <summary>The node's fee suggestion (<see cref="FeeSuggestion"/>), read at most once per poll interval.</summary>
    private Task<FeeSuggestion> SuggestFeesAsync(CancellationToken cancellationToken)
    {
        lock (_feeGate)
        {
            var now = NowMs;
            if (_feeTask is null || _feeTask.IsFaulted || _feeTask.IsCanceled || now - _feeTaskAtMs > _options.PollInterval.TotalMilliseconds)
            {
                _feeTask = FetchFeesAsync(cancellationToken);
                _feeTaskAtMs = now;
            }

            return _feeTask;
        }
    }

    /// <summary>Fees for a new transaction: 2 × base fee + tip (EIP-1559), or the gas price on a chain without base fee;
    /// capped at <see cref="TxManagerOptions.MaxFeePerGas"/>, and as they are.</summary>
    private async Task<FeeSuggestion> FetchFeesAsync(CancellationToken cancellationToken)
    {
        var block = await _rpc.CallAsync("eth_getBlockByNumber", ["latest", false], cancellationToken).ConfigureAwait(false);
        var cap = _options.MaxFeePerGas;
        if (block.ValueKind != JsonValueKind.Object || !block.TryGetProperty("baseFeePerGas", out var baseFeeElement) || baseFeeElement.ValueKind != JsonValueKind.String)
        {
            var gasPrice = HexData.ParseQuantity(await _rpc.CallAsync("eth_gasPrice", cancellationToken).ConfigureAwait(false));
            var capped = BigInteger.Min(gasPrice, cap);
            return new FeeSuggestion(new TxFees(capped, capped, true), new TxFees(gasPrice, gasPrice, true));
        }

        var baseFee = HexData.ParseQuantity(baseFeeElement);
        BigInteger tip;
        try
        {
            tip = HexData.ParseQuantity(await _rpc.CallAsync("eth_maxPriorityFeePerGas", cancellationToken).ConfigureAwait(false));
        }
        catch (EthRpcException)
        {
            tip = new BigInteger(1_000_000_000);
        }

        var uncapped = baseFee * 2 + tip;
        var maxFee = BigInteger.Min(uncapped, cap);
        return new FeeSuggestion(new TxFees(maxFee, BigInteger.Min(tip, maxFee), false), new TxFees(uncapped, tip, false));
    }

    private static bool IsAlreadyKnown(string message) =>
        message.Contains("already known", StringComparison.OrdinalIgnoreCase)
        || message.Contains("known transaction", StringComparison.OrdinalIgnoreCase)
        || message.Contains("already imported", StringComparison.OrdinalIgnoreCase)
        || message.Contains("already exists", StringComparison.OrdinalIgnoreCase)
        || message.Contains("nonce too low", StringComparison.OrdinalIgnoreCase);

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private void NodeDown(ChainUnavailableException e)
    {
        if (!_nodeDown)
        {
            _nodeDown = true;
            LogNodeDown(e.Message);
        }
    }

    private void NodeUp()
    {
        if (_nodeDown)
        {
            _nodeDown = false;
            LogNodeUp();
            foreach (var tracked in _open.Values)
            {
                Hold(tracked, "node outage");
            }
        }
    }

    /// <summary>A transaction the manager follows, with the hashes of all its signed versions.</summary>
    private sealed class Tracked(TxRecord record)
    {
        private int _busy;

        public TxRecord Record { get; set; } = record;

        public TaskCompletionSource<TxRecord> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<string> Hashes { get; set; } = [];

        /// <summary>When the account nonce passed this transaction's nonce with none of its versions mined (-1 = not so).</summary>
        public long NonceGoneSinceMs { get; set; } = -1;

        /// <summary>When the node first refused the broadcast (-1 = not refused).</summary>
        public long RefusedSinceMs { get; set; } = -1;

        /// <summary>When the node was last asked whether it still has this transaction (the next nonce to be mined).</summary>
        public long LastLookMs { get; set; } = -1;

        private volatile bool _held;
        private volatile bool _urgent;
        private volatile bool _rebroadcastDue;

        /// <summary>Held for its owner's re-decision: neither broadcast nor replaced.</summary>
        public bool Held
        {
            get => _held;
            set => _held = value;
        }

        /// <summary>A deadline is near: bump sooner, up to the emergency cap.</summary>
        public bool Urgent
        {
            get => _urgent;
            set => _urgent = value;
        }

        /// <summary>Completed once the node has the transaction, during its submission only.</summary>
        public TaskCompletionSource? HandedOver { get; set; }

        /// <summary>Approved after a hold: broadcast it again on the next pass.</summary>
        public bool RebroadcastDue
        {
            get => _rebroadcastDue;
            set => _rebroadcastDue = value;
        }

        public bool TryEnter() => Interlocked.CompareExchange(ref _busy, 1, 0) == 0;

        public void Exit() => Volatile.Write(ref _busy, 0);
    }
}
