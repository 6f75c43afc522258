using System.Diagnostics.CodeAnalysis;
using System.Text;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Aggregator.Generator;

/// <summary>Turns a prover's <see cref="FinalProof"/> into a stored record, normalising the roots.</summary>
public static class FinalProofs
{
    public static bool TryCreateRecord(ProofTask task, FinalProof proof, string aggregatorAddress, string proverName, DateTimeOffset now,
        [NotNullWhen(true)] out FinalProofRecord? record, out string error)
    {
        record = null;
        var extended = proof.Public;
        if (!TryRoot(extended.NewStateRoot.Span, out var stateRoot) ||
            !TryRoot(extended.NewAccInputHash.Span, out var accInputHash) ||
            !TryRoot(extended.NewLocalExitRoot.Span, out var localExitRoot))
        {
            error = "the final proof's public inputs carry a root that is neither 32 bytes nor 0x-hex text of 32 bytes";
            return false;
        }

        var text = proof.Proof.Trim();
        if (!text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || text.Length < 4 || text.Length % 2 != 0 ||
            text.AsSpan(2).ContainsAnyExcept("0123456789abcdefABCDEF"))
        {
            error = "the final proof is not 0x-prefixed hex";
            return false;
        }

        record = new FinalProofRecord
        {
            InitBatch = task.FromBatch,
            FinalBatch = task.ToBatch,
            Proof = text,
            AggregatorAddress = aggregatorAddress,
            NewStateRoot = stateRoot,
            NewAccInputHash = accInputHash,
            NewLocalExitRoot = localExitRoot,
            ProverName = proverName,
            CreatedAt = now,
        };
        error = "";
        return true;
    }

    /// <summary>Accepts a root as 32 raw bytes or as 66-byte ASCII <c>0x</c>-hex text (some prover builds).</summary>
    public static bool TryRoot(ReadOnlySpan<byte> value, [NotNullWhen(true)] out byte[]? root)
    {
        root = null;
        if (value.Length == 32)
        {
            root = value.ToArray();
            return true;
        }

        if (value.Length == 66 && value[0] == (byte)'0' && (value[1] == (byte)'x' || value[1] == (byte)'X'))
        {
            try
            {
                root = Convert.FromHexString(Encoding.ASCII.GetString(value[2..]));
                return true;
            }
            catch (FormatException)
            {
                return false;
            }
        }

        return false;
    }
}
