using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Proof;

namespace ZkPow.Devnet.Prover;

/// <summary>
/// The mock prover's recursive proof (batch or aggregated), serialised as compact JSON:
/// <c>{"kind":"batch","chainId":1001,"forkId":6,"coinbase":"0x…","oldBatch":0,"newBatch":1,"oldStateRoot":"0x…",
/// "oldAccInputHash":"0x…","newStateRoot":"0x…","newAccInputHash":"0x…","newLocalExitRoot":"0x…",
/// "batches":[{"txHash":"0x…","globalExitRoot":"0x…","timestamp":1700000000}]}</c>.
/// A parsed proof is valid only if its batches chain from the old roots to the new roots by the devnet rules.
/// </summary>
public sealed record MockRecursiveProof
{
    public const string BatchKind = "batch";
    public const string AggregatedKind = "aggregated";

    /// <summary><see cref="BatchKind"/> or <see cref="AggregatedKind"/>.</summary>
    public required string Kind { get; init; }

    public required ulong ChainId { get; init; }

    public required ulong ForkId { get; init; }

    /// <summary>The L2 coinbase (sequencer address), 0x-hex.</summary>
    public required string Coinbase { get; init; }

    public required ulong OldBatch { get; init; }

    public required ulong NewBatch { get; init; }

    public required string OldStateRoot { get; init; }

    public required string OldAccInputHash { get; init; }

    public required string NewStateRoot { get; init; }

    public required string NewAccInputHash { get; init; }

    public required string NewLocalExitRoot { get; init; }

    /// <summary>One digest per batch OldBatch+1 .. NewBatch.</summary>
    public required IReadOnlyList<MockBatchDigest> Batches { get; init; }

    /// <summary>Filler that gives the proof text a realistic size (see <see cref="ToJson(int)"/>); not part of what is
    /// proved, omitted when null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Padding { get; init; }

    /// <summary>The batch proof for one batch's public inputs, computed with the devnet state transition.</summary>
    public static MockRecursiveProof ForBatch(ulong chainId, ulong forkId, string coinbase, ulong oldBatch,
        byte[] oldStateRoot, byte[] oldAccInputHash, byte[] transactions, byte[] globalExitRoot, ulong timestamp)
    {
        var coinbaseBytes = HexData.DecodeAddress(coinbase);
        var txHash = DevnetRules.Keccak256(transactions);
        var stateRoot = DevnetRules.NextStateRoot(oldStateRoot, txHash, globalExitRoot, timestamp, coinbaseBytes);
        var accInputHash = DevnetRules.NextAccInputHash(oldAccInputHash, txHash, globalExitRoot, timestamp, coinbaseBytes);
        return new MockRecursiveProof
        {
            Kind = BatchKind,
            ChainId = chainId,
            ForkId = forkId,
            Coinbase = coinbase,
            OldBatch = oldBatch,
            NewBatch = oldBatch + 1,
            OldStateRoot = HexData.Encode(oldStateRoot),
            OldAccInputHash = HexData.Encode(oldAccInputHash),
            NewStateRoot = HexData.Encode(stateRoot),
            NewAccInputHash = HexData.Encode(accInputHash),
            NewLocalExitRoot = HexData.Encode(DevnetRules.LocalExitRoot(stateRoot)),
            Batches = [new MockBatchDigest(HexData.Encode(txHash), HexData.Encode(globalExitRoot), timestamp)],
        };
    }

    /// <summary>
    /// Aggregates two valid proofs; fails unless <paramref name="lower"/> ends where <paramref name="upper"/> starts
    /// (batch number and both roots) and both have the same chain, fork and coinbase.
    /// </summary>
    public static bool TryAggregate(MockRecursiveProof lower, MockRecursiveProof upper,
        [NotNullWhen(true)] out MockRecursiveProof? aggregated, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(lower);
        ArgumentNullException.ThrowIfNull(upper);
        aggregated = null;
        error = lower.NewBatch != upper.OldBatch
            ? $"proofs are not adjacent: {lower.OldBatch}-{lower.NewBatch} and {upper.OldBatch}-{upper.NewBatch}"
            : !SameHex(lower.NewStateRoot, upper.OldStateRoot) ? "state roots do not chain"
            : !SameHex(lower.NewAccInputHash, upper.OldAccInputHash) ? "acc input hashes do not chain"
            : lower.ChainId != upper.ChainId ? "different chain ids"
            : lower.ForkId != upper.ForkId ? "different fork ids"
            : !SameHex(lower.Coinbase, upper.Coinbase) ? "different coinbases"
            : null;
        if (error is not null)
        {
            return false;
        }

        aggregated = lower with
        {
            Kind = AggregatedKind,
            NewBatch = upper.NewBatch,
            NewStateRoot = upper.NewStateRoot,
            NewAccInputHash = upper.NewAccInputHash,
            NewLocalExitRoot = upper.NewLocalExitRoot,
            Batches = [.. lower.Batches, .. upper.Batches],
        };
        return true;
    }

    /// <summary>Parses and validates a proof text; never throws.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out MockRecursiveProof? proof,
        [NotNullWhen(false)] out string? error)
    {
        proof = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "empty recursive proof";
            return false;
        }

        MockRecursiveProof? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize(text, MockProofJsonContext.Default.MockRecursiveProof);
        }
        catch (JsonException ex)
        {
            error = "unparseable recursive proof: " + ex.Message;
            return false;
        }

        if (parsed is null)
        {
            error = "unparseable recursive proof: null";
            return false;
        }

        error = parsed.Validate();
        if (error is not null)
        {
            return false;
        }

        proof = parsed;
        return true;
    }

    /// <summary>Compact JSON text of this proof.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, MockProofJsonContext.Default.MockRecursiveProof);

    /// <summary>Compact JSON text of this proof padded to <paramref name="size"/> characters (real recursive proofs
    /// are around a megabyte); 0, or a size below the unpadded text, gives the unpadded text.</summary>
    public string ToJson(int size)
    {
        var plain = (this with { Padding = null }).ToJson();
        var filler = size - plain.Length - ",\"padding\":\"\"".Length;
        return filler <= 0 ? plain : (this with { Padding = new string('0', filler) }).ToJson();
    }

    /// <summary>The devnet final proof for this (valid) proof's range, made for the given aggregator address.</summary>
    public DevnetFinalProof ToFinalProof(byte[] aggregator) => new(
        aggregator, ChainId, ForkId, OldBatch, NewBatch,
        HexData.DecodeWord(OldStateRoot), HexData.DecodeWord(OldAccInputHash),
        HexData.DecodeWord(NewStateRoot), HexData.DecodeWord(NewAccInputHash), HexData.DecodeWord(NewLocalExitRoot),
        HexData.DecodeAddress(Coinbase),
        Batches.Select(b => HexData.DecodeWord(b.TxHash)).ToArray(),
        Batches.Select(b => HexData.DecodeWord(b.GlobalExitRoot)).ToArray(),
        Batches.Select(b => b.Timestamp).ToArray());

    /// <summary>Null when the proof is well-formed and chains by the devnet rules, else the reason.</summary>
    private string? Validate()
    {
        if (Kind is not (BatchKind or AggregatedKind))
        {
            return $"unknown recursive proof kind '{Kind}'";
        }

        if (Batches is null || Batches.Any(b => b is null || !HexData.TryDecodeWord(b.TxHash, out _)
                || !HexData.TryDecodeWord(b.GlobalExitRoot, out _)))
        {
            return "malformed batch digests";
        }

        if (!HexData.TryDecodeAddress(Coinbase, out _)
            || !HexData.TryDecodeWord(OldStateRoot, out _) || !HexData.TryDecodeWord(OldAccInputHash, out _)
            || !HexData.TryDecodeWord(NewStateRoot, out _) || !HexData.TryDecodeWord(NewAccInputHash, out _)
            || !HexData.TryDecodeWord(NewLocalExitRoot, out _))
        {
            return "malformed root or coinbase";
        }

        if (Kind == BatchKind && Batches.Count != 1)
        {
            return "a batch proof covers exactly one batch";
        }

        var reason = DevnetVerifier.Check(ToFinalProof(new byte[20]));
        return reason is null ? null : "invalid recursive proof: " + reason;
    }

    private static bool SameHex(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
