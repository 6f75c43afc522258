namespace ZkPow.Aggregator.Sender;

/// <summary>A planned stop: no new hash is committed, every commitment of ours already made is revealed as usual.</summary>
public sealed partial class ProofSender
{
    private readonly SemaphoreSlim _commitGate = new(1, 1);
    private volatile bool _draining;

    /// <summary>True once <see cref="BeginDrainAsync"/> has run: no new <c>submitProofHash</c> is sent.</summary>
    public bool Draining => _draining;

    /// <summary>
    /// Stops committing new hashes: once this returns, no new hash tx is handed to the tx manager (a hash tx that was
    /// handed over before is seen through, and its commitment revealed). Commitments already made are revealed in their
    /// proof window as usual: a commitment is never abandoned (that is a slash) nor revealed early.
    /// </summary>
    public async Task BeginDrainAsync(CancellationToken cancellationToken)
    {
        await _commitGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_draining)
            {
                _draining = true;
                LogDrainBegun();
            }
        }
        finally
        {
            _commitGate.Release();
        }
    }

    /// <summary>Open commitments of ours in <paramref name="open"/>: a hash tx handed to the tx manager, a hash on chain
    /// not yet revealed, or a reveal not yet confirmed; and a Queued or Resend record whose commitment of ours is live on
    /// chain (see <see cref="AdoptWhileDrainingAsync"/>), until it is adopted and revealed or its round is over.</summary>
    public async Task<int> CountOpenCommitmentsAsync(IEnumerable<SubmissionRecord> open, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(open);
        var count = 0;
        foreach (var record in open)
        {
            if (record.State is SubmissionState.Committing or SubmissionState.Committed or SubmissionState.Revealing ||
                (record.State is SubmissionState.Queued or SubmissionState.Resend &&
                 await LiveCommitmentAsync(record.FinalBatch, cancellationToken).ConfigureAwait(false) is not null))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// While draining no hash is committed, but a Queued record may have a live commitment of ours on chain: a hash tx held
    /// while draining is cancelled, and the original can still be mined before the cancel (its record is already back in
    /// Queued, watched by no worker). Such a commitment is adopted and revealed as any other (left unrevealed, it is a
    /// slash at its round's end).
    /// </summary>
    private Task<bool> AdoptWhileDrainingAsync(ulong final, CancellationToken cancellationToken) =>
        AdoptIfLiveAsync(final, SubmissionState.Queued, "draining: our commitment is on chain (a hash tx cancelled while draining was mined first)",
            cancellationToken);
}
