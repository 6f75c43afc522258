using ZkPow.Devnet.Proof;

namespace ZkPow.Devnet.Rollup;

/// <summary>
/// The devnet rollup's batches, as its sequencer made them and its rollup node reports them: batch 0 is genesis
/// (devnet-proof.md). Thread-safe.
/// </summary>
public sealed class DevnetRollupLedger
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<ulong, DevnetBatch> _batches = [];
    private readonly Dictionary<ulong, string> _sequenceTx = [];
    private DevnetSequence? _last;

    /// <summary>The last batch made (0 before the first sequence).</summary>
    public ulong LastBatch
    {
        get
        {
            lock (_gate)
            {
                return _last?.FinalNewBatch ?? 0;
            }
        }
    }

    /// <summary>The last sequence made, if any.</summary>
    public DevnetSequence? LastSequence
    {
        get
        {
            lock (_gate)
            {
                return _last;
            }
        }
    }

    /// <summary>Records a sequence sent in <paramref name="transactionHash"/>; batches at or above its first batch
    /// that it does not carry are forgotten (a sequence made again after a reorg replaces the old ones).</summary>
    public void Record(DevnetSequence sequence, string? transactionHash)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        lock (_gate)
        {
            foreach (var stale in _batches.Keys.Where(n => n >= sequence.Batches[0].Number).ToList())
            {
                _batches.Remove(stale);
                _sequenceTx.Remove(stale);
            }

            foreach (var batch in sequence.Batches)
            {
                _batches[batch.Number] = batch;
                if (transactionHash is not null)
                {
                    _sequenceTx[batch.Number] = transactionHash;
                }
            }

            _last = sequence;
        }
    }

    /// <summary>Records that the sequence's batches now sit in <paramref name="transactionHash"/> (sent again after a
    /// reorg dropped them); the batches themselves do not change.</summary>
    public void UpdateTransaction(DevnetSequence sequence, string transactionHash)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        lock (_gate)
        {
            foreach (var batch in sequence.Batches)
            {
                if (_batches.ContainsKey(batch.Number))
                {
                    _sequenceTx[batch.Number] = transactionHash;
                }
            }
        }
    }

    /// <summary>The batch, or null; batch 0 is genesis (its roots only).</summary>
    public DevnetBatch? GetBatch(ulong number)
    {
        if (number == 0)
        {
            var root = DevnetRules.GenesisStateRoot();
            return new DevnetBatch(0, [], new byte[32], 0, "0x0000000000000000000000000000000000000000", root, new byte[32], root,
                DevnetRules.GenesisAccInputHash(), DevnetRules.LocalExitRoot(root));
        }

        lock (_gate)
        {
            return _batches.GetValueOrDefault(number);
        }
    }

    /// <summary>The hash of the <c>sequenceBatches</c> transaction that carried the batch, if known.</summary>
    public string? GetSequenceTransaction(ulong number)
    {
        lock (_gate)
        {
            return _sequenceTx.GetValueOrDefault(number);
        }
    }
}
