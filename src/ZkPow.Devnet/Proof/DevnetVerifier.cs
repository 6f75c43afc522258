using System.Numerics;

namespace ZkPow.Devnet.Proof;

/// <summary>
/// The devnet verifier's rule (devnet-proof.md) in C#: decodes the proof and recomputes everything from it.
/// Never throws for malformed proofs.
/// </summary>
public static class DevnetVerifier
{
    /// <summary>True iff the proof is well-formed, internally consistent and its SNARK input equals <paramref name="pubSignal"/>.</summary>
    public static bool Verify(ReadOnlySpan<byte> proof, BigInteger pubSignal) => Verify(proof, pubSignal, out _);

    /// <inheritdoc cref="Verify(ReadOnlySpan{byte}, BigInteger)"/>
    public static bool Verify(ReadOnlySpan<byte> proof, BigInteger pubSignal, out string? reason)
    {
        var decoded = DevnetFinalProofCodec.Decode(proof);
        if (!decoded.Success)
        {
            reason = decoded.Error;
            return false;
        }

        var p = decoded.Proof;
        reason = Check(p);
        if (reason is null && p.SnarkInput(p.Aggregator) != pubSignal)
        {
            reason = "SNARK input mismatch";
        }

        return reason is null;
    }

    /// <summary>Checks a decoded proof's internal consistency; returns null when it holds, else the reason.</summary>
    public static string? Check(DevnetFinalProof proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (proof.FinalNewBatch <= proof.InitNumBatch)
        {
            return "empty batch range";
        }

        var count = proof.FinalNewBatch - proof.InitNumBatch;
        if ((ulong)proof.TxHashes.Count != count || (ulong)proof.GlobalExitRoots.Count != count
            || (ulong)proof.Timestamps.Count != count)
        {
            return "array lengths do not match the batch range";
        }

        var stateRoot = proof.OldStateRoot;
        var accInputHash = proof.OldAccInputHash;
        for (var i = 0; i < (int)count; i++)
        {
            stateRoot = DevnetRules.NextStateRoot(stateRoot, proof.TxHashes[i], proof.GlobalExitRoots[i],
                proof.Timestamps[i], proof.L2Coinbase);
            accInputHash = DevnetRules.NextAccInputHash(accInputHash, proof.TxHashes[i], proof.GlobalExitRoots[i],
                proof.Timestamps[i], proof.L2Coinbase);
        }

        if (!stateRoot.AsSpan().SequenceEqual(proof.NewStateRoot))
        {
            return "state root does not chain";
        }

        if (!accInputHash.AsSpan().SequenceEqual(proof.NewAccInputHash))
        {
            return "acc input hash does not chain";
        }

        return DevnetRules.LocalExitRoot(stateRoot).AsSpan().SequenceEqual(proof.NewLocalExitRoot)
            ? null
            : "local exit root mismatch";
    }
}
