using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Sender;

namespace ZkPow.Aggregator.Manager;

/// <summary>
/// The Proof Manager: the bridge between stored final proofs and the <see cref="ProofSender"/>.
/// <list type="bullet">
/// <item><see cref="SubmitPendingProofAsync"/> (once, at start-up, before the sender sends anything new): rebuilds the
/// sender's work from the store and the chain.</item>
/// <item>tryFetchProofToSend (a worker): hands every stored final proof not yet submitted to the sender's
/// finalProofMsgCache, lowest sequence first, as soon as it is stored.</item>
/// <item>processResend (a worker): sends round again the sequences that need another go.</item>
/// </list>
/// </summary>
public sealed partial class ProofManager : IAsyncDisposable
{
    private readonly ISubmissionStore _store;
    private readonly ProofSender _sender;
    private readonly IRollupChain _chain;
    private readonly SenderOptions _options;
    private readonly ILogger<ProofManager> _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<ulong, long> _storedAt = new();
    private readonly Channel<bool> _proofStored = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stopping = new();
    private Task[] _workers = [];

    public ProofManager(ISubmissionStore store, ProofSender sender, IRollupChain chain, SenderOptions options, ILogger<ProofManager> logger,
        TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _store = store;
        _sender = sender;
        _chain = chain;
        _options = options;
        _logger = logger;
        _time = time;
    }

    /// <summary>Whether the generator is storing the final proof of a sequence and has not announced it yet (wire to
    /// <see cref="ProofGenerator.IsStoringFinal"/>).</summary>
    public Func<ulong, bool> FinalBeingStored { get; init; } = _ => false;

    /// <summary>Call when the generator has stored a final proof (wire to <see cref="ProofGenerator.FinalProofStored"/>).</summary>
    public void OnFinalProofStored(FinalProofRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _storedAt[record.FinalBatch] = Stopwatch.GetTimestamp();
        _proofStored.Writer.TryWrite(true);
    }

    /// <summary>Call when another replica (or this one) stored the final proof of <paramref name="finalBatch"/> (a database
    /// notification), or with null to look for unsent final proofs now (after a missed notification).</summary>
    public void OnFinalProofNotified(ulong? finalBatch)
    {
        if (finalBatch is { } final)
        {
            _storedAt.TryAdd(final, Stopwatch.GetTimestamp());
        }

        _proofStored.Writer.TryWrite(true);
    }

    /// <summary>
    /// submitPendingProof: for every submission of ours that is not finished, resumes it where it stopped. Commitments
    /// on chain whose proof is not revealed go back to the watcher (and are revealed, late if need be); txs in flight are
    /// picked up again by their keys (no new tx); final proofs not yet committed go back to the finalProofMsgCache.
    /// A submission the store thinks uncommitted but whose hash is on chain in the live round is treated as committed.
    /// </summary>
    public async Task SubmitPendingProofAsync(CancellationToken cancellationToken)
    {
        var open = await _store.ListOpenSubmissionsAsync(cancellationToken).ConfigureAwait(false);
        var resumed = 0;
        foreach (var record in open)
        {
            if (record.State is SubmissionState.Queued or SubmissionState.Resend &&
                await _sender.LiveCommitmentAsync(record.FinalBatch, cancellationToken).ConfigureAwait(false) is { } live)
            {
                // Our hash is on chain in a round where it can still be revealed, whatever the record says: reveal it.
                await _sender.AdoptCommitmentAsync(record, live, "found on chain at start-up", cancellationToken).ConfigureAwait(false);
                resumed++;
                continue;
            }

            await _sender.ResumeAsync(record, cancellationToken).ConfigureAwait(false);
            resumed++;
        }

        // Commitments of ours on chain that the store does not know (a lost store) are rebuilt and revealed.
        var rebuilt = await _sender.RecoverCommitmentsFromChainAsync(cancellationToken).ConfigureAwait(false);

        // Hash txs the tx manager holds since its start are re-decided now, with every open round of ours known.
        await _sender.ReDecideHeldHashTxsAsync(cancellationToken).ConfigureAwait(false);
        LogResumed(resumed, rebuilt);
    }

    /// <summary>Starts tryFetchProofToSend and processResend.</summary>
    public void Start()
    {
        var token = _stopping.Token;
        _workers =
        [
            Task.Run(() => TryFetchProofToSendAsync(token), token),
            Task.Run(() => ProcessResendAsync(token), token),
        ];
    }

    private async Task TryFetchProofToSendAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                foreach (var final in await _store.ListUnsentFinalProofsAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (_sender.Holds(final))
                    {
                        continue;
                    }

                    // A proof listed between its write and its announcement is left to the announcement, which stamps
                    // the moment it was stored (for the hash broadcast latency) and wakes this loop. Asked before the
                    // stamp is looked for: once the generator says it is no longer storing, its stamp is there.
                    var announcing = FinalBeingStored(final);
                    if (_storedAt.TryRemove(final, out var at))
                    {
                        _sender.FinalProofMsgCache.Put(final, at);
                    }
                    else if (!announcing)
                    {
                        _sender.FinalProofMsgCache.Put(final, 0);
                    }
                }

                // Wake at once when a final proof is stored; look again now and then regardless.
                await Task.WhenAny(_proofStored.Reader.WaitToReadAsync(cancellationToken).AsTask(),
                    Task.Delay(_options.ResendInterval, _time, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                _proofStored.Reader.TryRead(out _); // One listing covers every wake-up so far.
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is InvalidOperationException or System.Data.Common.DbException)
            {
                LogWorkerError("tryFetchProofToSend", e.Message);
                await Task.Delay(_options.ResendInterval, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task ProcessResendAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.ResendInterval, _time, cancellationToken).ConfigureAwait(false);
                await ResendDueAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is ChainUnavailableException or EthRpcException or InvalidOperationException or System.Data.Common.DbException)
            {
                LogWorkerError("processResend", e.Message);
            }
        }
    }

    /// <summary>
    /// One pass of processResend. A sequence marked for another go is committed again as soon as a new hash can land:
    /// no round yet, the round expired with no proof (the contract resets it), or the live round's hash window is open.
    /// If it was verified meanwhile it is lost to competition and not resent. Retries are bounded by the sender (a
    /// sequence that fails too often is parked and reported). Hand-overs that were lost (a queued proof or a commitment
    /// held by no cache) are put back.
    /// </summary>
    internal async Task ResendDueAsync(CancellationToken cancellationToken)
    {
        var head = await _chain.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
        var lastVerified = await _chain.GetLastVerifiedBatchAsync(cancellationToken).ConfigureAwait(false);

        // A reveal of ours that a reorg took away (deeper than the confirmation depth) leaves a Revealed record for a
        // sequence the chain does not show as verified: re-check those, so that no sequence is left unproved.
        foreach (var revealed in await _store.ListRevealedAboveAsync(lastVerified, cancellationToken).ConfigureAwait(false))
        {
            if (!_sender.Holds(revealed.FinalBatch))
            {
                await _sender.RecheckRevealedAsync(revealed, head, cancellationToken).ConfigureAwait(false);
            }
        }

        var open = await _store.ListOpenSubmissionsAsync(cancellationToken).ConfigureAwait(false);
        if (open.Count == 0)
        {
            return;
        }

        var windows = await _chain.GetProofWindowsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var record in open)
        {
            if (_sender.Holds(record.FinalBatch))
            {
                continue;
            }

            switch (record.State)
            {
                case SubmissionState.Resend:
                    await ResendOneAsync(record, head, windows, lastVerified, cancellationToken).ConfigureAwait(false);
                    break;
                case SubmissionState.Queued:
                    if (await _store.GetFinalProofAsync(record.FinalBatch, cancellationToken).ConfigureAwait(false) is not null)
                    {
                        _sender.FinalProofMsgCache.Put(record.FinalBatch, 0);
                    }

                    break;
                case SubmissionState.Committed:
                    _sender.MonitPHTxCache.Put(record.FinalBatch, new MonitItem(null, null));
                    break;
                case SubmissionState.Committing:
                case SubmissionState.Revealing:
                case SubmissionState.Reproving:
                case SubmissionState.Revealed:
                case SubmissionState.Lost:
                case SubmissionState.Parked:
                case SubmissionState.Slashed:
                    break;
                default:
                    throw new InvalidOperationException($"unknown submission state {record.State}");
            }
        }
    }

    private async Task ResendOneAsync(SubmissionRecord record, ulong head, ProofWindows windows, ulong lastVerified, CancellationToken cancellationToken)
    {
        // A live commitment of ours (one a transient read sent to Resend, or the one in the round that got the proof) is
        // revealed, never abandoned.
        if (await _sender.LiveCommitmentAsync(record.FinalBatch, cancellationToken).ConfigureAwait(false) is { } live)
        {
            await _sender.AdoptCommitmentAsync(record, live, "found on chain before sending round again", cancellationToken).ConfigureAwait(false);
            return;
        }

        var sequence = await _chain.GetSequenceAsync(record.FinalBatch, cancellationToken).ConfigureAwait(false);
        if (lastVerified >= record.FinalBatch || sequence.ProofSubmitted)
        {

            await _store.SaveSubmissionAsync(record with { State = SubmissionState.Lost, LastError = "verified by another miner" }, cancellationToken)
                .ConfigureAwait(false);
            _sender.Metrics.Sequence("lost");
            LogLost(record.FinalBatch);
            return;
        }

        var landing = head + 1;
        var noRound = sequence.RoundStart == 0;
        var expired = !noRound && landing - sequence.RoundStart > (ulong)windows.T1 + windows.T2;
        var open = !noRound && landing - sequence.RoundStart <= windows.T1;
        if (noRound || expired || open)
        {
            LogResending(record.FinalBatch, record.HashAttempt, noRound ? "no round" : expired ? "round expired with no proof" : "hash window open");
            await _store.SaveSubmissionAsync(record with { State = SubmissionState.Queued }, cancellationToken).ConfigureAwait(false);
            _sender.FinalProofMsgCache.Put(record.FinalBatch, 0);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_workers).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        _stopping.Dispose();
    }
}
