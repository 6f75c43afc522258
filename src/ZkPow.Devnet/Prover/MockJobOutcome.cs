using System.Text;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Devnet.Prover;

/// <summary>What a job yields when it completes: a recursive proof, a final proof, or a failure reason.</summary>
/// <remarks>A prover keeps its finished jobs' results for <see cref="MockProverOptions.JobRetention"/> (an hour by
/// default), so that a re-poll still finds them. A recursive proof is kept as UTF-8 bytes in an array the garbage
/// collector never moves: in-process mock provers (the benchmark runs 64 next to the aggregator) would otherwise copy
/// every proof they keep from generation to generation during the aggregator's collections.</remarks>
internal sealed class MockJobOutcome
{
    private readonly byte[]? _recursiveProof;

    private MockJobOutcome(string? recursiveProof, FinalProof? finalProof, string? error)
    {
        if (recursiveProof is not null)
        {
            _recursiveProof = GC.AllocateUninitializedArray<byte>(Encoding.UTF8.GetByteCount(recursiveProof), pinned: true);
            Encoding.UTF8.GetBytes(recursiveProof, _recursiveProof);
        }

        FinalProof = finalProof;
        Error = error;
    }

    /// <summary>The recursive proof text (decoded on each call), or null.</summary>
    public string? RecursiveProof => _recursiveProof is null ? null : Encoding.UTF8.GetString(_recursiveProof);

    public FinalProof? FinalProof { get; }

    public string? Error { get; }

    public static MockJobOutcome Recursive(string proof) => new(proof, null, null);

    public static MockJobOutcome Final(FinalProof proof) => new(null, proof, null);

    public static MockJobOutcome Failed(string error) => new(null, null, error);
}
