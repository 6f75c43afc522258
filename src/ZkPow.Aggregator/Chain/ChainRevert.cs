using System.Collections.Frozen;
using System.Numerics;
using System.Text;

namespace ZkPow.Aggregator.Chain;

/// <summary>
/// Why a call or transaction reverted: the contract's custom error decoded by selector (<see cref="Error"/>, with its
/// arguments for <c>ErrSequencerRange</c>), a plain reason string, or <see cref="ChainError.Unknown"/> with the raw data.
/// </summary>
public sealed record ChainRevert(ChainError Error, string Name, string? Data, string Message)
{
    private static readonly FrozenDictionary<string, (ChainError Error, string Signature)> BySelector = Build();

    /// <summary>The uint64 arguments of <c>ErrSequencerRange(uint64,uint64)</c> (initNumBatch, finalNewBatch); empty otherwise.</summary>
    public IReadOnlyList<BigInteger> Arguments { get; init; } = [];

    /// <summary>The hash window is closed (<c>CommittedTimeout</c>).</summary>
    public bool HashWindowClosed => Error == ChainError.CommittedTimeout;

    /// <summary>The error's name with its arguments; an unknown one with the node's message, when there is one.</summary>
    public override string ToString() =>
        Arguments.Count > 0 ? $"{Name}({string.Join(", ", Arguments)})" : Error == ChainError.Unknown && Message.Length > 0 ? $"{Name} ({Message})" : Name;

    /// <summary>Decodes revert data (0x-hex, may be null or empty) and the node's message.</summary>
    public static ChainRevert Decode(string? data, string? message = null)
    {
        message ??= string.Empty;
        if (data is null || data.Length < 10 || !data.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return new ChainRevert(ChainError.Unknown, "unknown", data, message);
        }

        var selector = data[..10].ToLowerInvariant();
        if (!BySelector.TryGetValue(selector, out var known))
        {
            return new ChainRevert(ChainError.Unknown, $"unknown error {selector}", data, message);
        }

        var name = known.Signature[..known.Signature.IndexOf('(', StringComparison.Ordinal)];
        var revert = new ChainRevert(known.Error, name, data, message);
        try
        {
            var body = new AbiWords(HexData.Decode(data)[4..]);
            return known.Error switch
            {
                ChainError.ErrorString => revert with { Name = "Error: " + Encoding.UTF8.GetString(body.Bytes(0)) },
                ChainError.Panic => revert with { Name = $"Panic(0x{body.Uint(0):x})" },
                ChainError.ErrSequencerRange or ChainError.InsufficientDeposit when body.Count >= 2 => revert with { Arguments = [body.Uint(0), body.Uint(1)] },
                _ => revert,
            };
        }
        catch (FormatException)
        {
            return revert;
        }
    }

    private static FrozenDictionary<string, (ChainError, string)> Build()
    {
        (ChainError Error, string Signature)[] errors =
        [
            (ChainError.CommittedProofHash, "CommittedProofHash()"),
            (ChainError.CommittedProof, "CommittedProof()"),
            (ChainError.CommittedTimeout, "CommittedTimeout()"),
            (ChainError.InsufficientPledge, "InsufficientPledge()"),
            (ChainError.CommittedBatches, "CommittedBatches()"),
            (ChainError.SubmitProofEarly, "SubmitProofEarly()"),
            (ChainError.SubmitProofTooLate, "SubmitProofTooLate()"),
            (ChainError.ErrCommitProof, "ErrCommitProof()"),
            (ChainError.ErrSequencerRange, "ErrSequencerRange(uint64,uint64)"),
            (ChainError.InitNumBatchAboveLastVerifiedBatch, "InitNumBatchAboveLastVerifiedBatch()"),
            (ChainError.OldStateRootDoesNotExist, "OldStateRootDoesNotExist()"),
            (ChainError.NewStateRootNotInsidePrime, "NewStateRootNotInsidePrime()"),
            (ChainError.OnlyAdmin, "OnlyAdmin()"),
            (ChainError.OnlyProverOrAdmin, "OnlyProverOrAdmin()"),
            (ChainError.SequenceZeroBatches, "SequenceZeroBatches()"),
            (ChainError.OldAccInputHashDoesNotExist, "OldAccInputHashDoesNotExist()"),
            (ChainError.NewAccInputHashDoesNotExist, "NewAccInputHashDoesNotExist()"),
            (ChainError.RewardTransferFailed, "RewardTransferFailed()"),
            (ChainError.OnlyRollup, "OnlyRollup()"),
            (ChainError.InsufficientDeposit, "InsufficientDeposit(uint256,uint256)"),
            (ChainError.TransferFailed, "TransferFailed()"),
            (ChainError.ZeroAmount, "ZeroAmount()"),
            (ChainError.Reentrancy, "Reentrancy()"),
            (ChainError.ErrorString, "Error(string)"),
            (ChainError.Panic, "Panic(uint256)"),
        ];
        return errors.ToFrozenDictionary(e => HexData.Encode(Abi.Selector(e.Signature)), e => (e.Error, e.Signature), StringComparer.Ordinal);
    }
}
