using System.Diagnostics.CodeAnalysis;

namespace ZkPow.Devnet.Proof;

/// <summary>The outcome of decoding a devnet final proof: the proof, or the reason it is malformed.</summary>
public sealed record DevnetProofDecodeResult
{
    private DevnetProofDecodeResult(DevnetFinalProof? proof, string? error)
    {
        Proof = proof;
        Error = error;
    }

    /// <summary>The decoded proof when <see cref="Success"/>.</summary>
    public DevnetFinalProof? Proof { get; }

    /// <summary>Why decoding failed, when it did.</summary>
    public string? Error { get; }

    [MemberNotNullWhen(true, nameof(Proof))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool Success => Proof is not null;

    public static DevnetProofDecodeResult Ok(DevnetFinalProof proof) => new(proof, null);

    public static DevnetProofDecodeResult Fail(string error) => new(null, error);
}
