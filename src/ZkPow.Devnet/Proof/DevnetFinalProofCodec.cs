using System.Buffers.Binary;

namespace ZkPow.Devnet.Proof;

/// <summary>
/// ABI encoding and decoding of the devnet final proof:
/// <c>abi.encode(bytes32 tag, address aggregator, uint64 chainID, uint64 forkID, uint64 initNumBatch,
/// uint64 finalNewBatch, bytes32 oldStateRoot, bytes32 oldAccInputHash, bytes32 newStateRoot, bytes32 newAccInputHash,
/// bytes32 newLocalExitRoot, address l2Coinbase, bytes32[] txHashes, bytes32[] globalExitRoots, uint64[] timestamps)</c>.
/// Decoding accepts what Solidity's <c>abi.decode</c> accepts (in-bounds offsets, clean high bits) plus the right tag.
/// </summary>
public static class DevnetFinalProofCodec
{
    private const int Word = 32;
    private const int HeadWords = 15;
    private const int HeadLength = HeadWords * Word;

    private static readonly byte[] Tag = DevnetRules.FinalProofTag();

    /// <summary>Encodes a proof. Throws <see cref="ArgumentException"/> for words or addresses of the wrong length.</summary>
    public static byte[] Encode(DevnetFinalProof proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        var length = HeadLength
            + Word + (proof.TxHashes.Count * Word)
            + Word + (proof.GlobalExitRoots.Count * Word)
            + Word + (proof.Timestamps.Count * Word);
        var buffer = new byte[length];
        var span = buffer.AsSpan();

        Tag.CopyTo(span);
        WriteAddress(span, 1, proof.Aggregator, nameof(proof.Aggregator));
        WriteUInt64(span, 2, proof.ChainId);
        WriteUInt64(span, 3, proof.ForkId);
        WriteUInt64(span, 4, proof.InitNumBatch);
        WriteUInt64(span, 5, proof.FinalNewBatch);
        WriteWord(span, 6, proof.OldStateRoot, nameof(proof.OldStateRoot));
        WriteWord(span, 7, proof.OldAccInputHash, nameof(proof.OldAccInputHash));
        WriteWord(span, 8, proof.NewStateRoot, nameof(proof.NewStateRoot));
        WriteWord(span, 9, proof.NewAccInputHash, nameof(proof.NewAccInputHash));
        WriteWord(span, 10, proof.NewLocalExitRoot, nameof(proof.NewLocalExitRoot));
        WriteAddress(span, 11, proof.L2Coinbase, nameof(proof.L2Coinbase));

        var offset = HeadLength;
        WriteUInt64(span, 12, (ulong)offset);
        offset = WriteWordArray(span, offset, proof.TxHashes, nameof(proof.TxHashes));
        WriteUInt64(span, 13, (ulong)offset);
        offset = WriteWordArray(span, offset, proof.GlobalExitRoots, nameof(proof.GlobalExitRoots));
        WriteUInt64(span, 14, (ulong)offset);
        WriteUInt64(span[offset..], 0, (ulong)proof.Timestamps.Count);
        for (var i = 0; i < proof.Timestamps.Count; i++)
        {
            WriteUInt64(span[offset..], 1 + i, proof.Timestamps[i]);
        }

        return buffer;
    }

    /// <summary>Decodes a proof; malformed bytes give a failed result, never an exception.</summary>
    public static DevnetProofDecodeResult Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeadLength)
        {
            return DevnetProofDecodeResult.Fail($"proof is {data.Length} bytes, shorter than the {HeadLength}-byte head");
        }

        if (!data[..Word].SequenceEqual(Tag))
        {
            return DevnetProofDecodeResult.Fail("wrong tag");
        }

        if (!TryReadAddress(data, 1, out var aggregator) || !TryReadAddress(data, 11, out var coinbase))
        {
            return DevnetProofDecodeResult.Fail("address with dirty high bytes");
        }

        if (!TryReadUInt64(data, 2, out var chainId) || !TryReadUInt64(data, 3, out var forkId)
            || !TryReadUInt64(data, 4, out var init) || !TryReadUInt64(data, 5, out var final))
        {
            return DevnetProofDecodeResult.Fail("uint64 out of range");
        }

        if (!TryReadArray(data, 12, out var txStart, out var txCount)
            || !TryReadArray(data, 13, out var gerStart, out var gerCount)
            || !TryReadArray(data, 14, out var tsStart, out var tsCount))
        {
            return DevnetProofDecodeResult.Fail("array offset or length out of bounds");
        }

        var txHashes = new byte[txCount][];
        for (var i = 0; i < txCount; i++)
        {
            txHashes[i] = data.Slice(txStart + (i * Word), Word).ToArray();
        }

        var globalExitRoots = new byte[gerCount][];
        for (var i = 0; i < gerCount; i++)
        {
            globalExitRoots[i] = data.Slice(gerStart + (i * Word), Word).ToArray();
        }

        var timestamps = new ulong[tsCount];
        var tsData = data[tsStart..];
        for (var i = 0; i < tsCount; i++)
        {
            if (!TryReadUInt64(tsData, i, out timestamps[i]))
            {
                return DevnetProofDecodeResult.Fail("timestamp out of uint64 range");
            }
        }

        return DevnetProofDecodeResult.Ok(new DevnetFinalProof(
            aggregator, chainId, forkId, init, final,
            ReadWord(data, 6), ReadWord(data, 7), ReadWord(data, 8), ReadWord(data, 9), ReadWord(data, 10),
            coinbase, txHashes, globalExitRoots, timestamps));
    }

    private static int WriteWordArray(Span<byte> span, int offset, IReadOnlyList<byte[]> words, string name)
    {
        WriteUInt64(span[offset..], 0, (ulong)words.Count);
        for (var i = 0; i < words.Count; i++)
        {
            WriteWord(span[offset..], 1 + i, words[i], name);
        }

        return offset + Word + (words.Count * Word);
    }

    private static void WriteWord(Span<byte> span, int slot, byte[] value, string name)
    {
        DevnetRules.RequireWord(value, name);
        value.CopyTo(span.Slice(slot * Word, Word));
    }

    private static void WriteAddress(Span<byte> span, int slot, byte[] value, string name)
    {
        DevnetRules.RequireAddress(value, name);
        value.CopyTo(span.Slice((slot * Word) + 12, 20));
    }

    private static void WriteUInt64(Span<byte> span, int slot, ulong value) =>
        BinaryPrimitives.WriteUInt64BigEndian(span.Slice((slot * Word) + 24, 8), value);

    private static byte[] ReadWord(ReadOnlySpan<byte> data, int slot) => data.Slice(slot * Word, Word).ToArray();

    private static bool TryReadAddress(ReadOnlySpan<byte> data, int slot, out byte[] address)
    {
        var word = data.Slice(slot * Word, Word);
        address = word[12..].ToArray();
        return !word[..12].ContainsAnyExcept((byte)0);
    }

    private static bool TryReadUInt64(ReadOnlySpan<byte> data, int slot, out ulong value)
    {
        var word = data.Slice(slot * Word, Word);
        value = BinaryPrimitives.ReadUInt64BigEndian(word[24..]);
        return !word[..24].ContainsAnyExcept((byte)0);
    }

    /// <summary>Reads the offset in a head slot and the array length there; checks that the whole array is in bounds.</summary>
    private static bool TryReadArray(ReadOnlySpan<byte> data, int slot, out int start, out int count)
    {
        start = 0;
        count = 0;
        if (!TryReadUInt64(data, slot, out var offset) || offset > (ulong)data.Length - Word)
        {
            return false;
        }

        var lengthWord = data.Slice((int)offset, Word);
        if (lengthWord[..24].ContainsAnyExcept((byte)0))
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt64BigEndian(lengthWord[24..]);
        var available = (ulong)(data.Length - (int)offset - Word) / Word;
        if (length > available)
        {
            return false;
        }

        start = (int)offset + Word;
        count = (int)length;
        return true;
    }
}
