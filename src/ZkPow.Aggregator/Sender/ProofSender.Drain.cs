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
    /// not yet revealed, or a reveal not yet confirmed.</summary>
    public static int CountOpenCommitments(IEnumerable<SubmissionRecord> open) =>
        open.Count(r => r.State is SubmissionState.Committing or SubmissionState.Committed or SubmissionState.Revealing);
}
