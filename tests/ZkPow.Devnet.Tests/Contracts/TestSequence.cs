using ZkPow.Devnet.Chain;

namespace ZkPow.Devnet.Tests.Contracts;

/// <summary>A sequence as the tests sent it, with its true roots.</summary>
internal sealed record TestSequence(
    ulong InitNumBatch,
    ulong FinalNewBatch,
    IReadOnlyList<DevBatch> Batches,
    string L2Coinbase,
    byte[] OldStateRoot,
    byte[] OldAccInputHash,
    byte[] NewStateRoot,
    byte[] NewAccInputHash,
    byte[] NewLocalExitRoot)
{
    /// <summary>Builds the sequence that follows (<paramref name="oldStateRoot"/>, <paramref name="oldAccInputHash"/>) at batch <paramref name="initNumBatch"/>.</summary>
    public static TestSequence After(ulong initNumBatch, byte[] oldStateRoot, byte[] oldAccInputHash, IReadOnlyList<DevBatch> batches, string l2Coinbase)
    {
        var root = oldStateRoot;
        var acc = oldAccInputHash;
        foreach (var batch in batches)
        {
            root = ContractTestProofs.NextStateRoot(root, batch, l2Coinbase);
            acc = ContractTestProofs.NextAccInputHash(acc, batch, l2Coinbase);
        }

        return new TestSequence(
            initNumBatch,
            initNumBatch + (ulong)batches.Count,
            batches,
            l2Coinbase,
            oldStateRoot,
            oldAccInputHash,
            root,
            acc,
            ContractTestProofs.LocalExitRoot(root));
    }
}
