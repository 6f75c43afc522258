using System.Numerics;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Sync;

/// <summary>The decoded call data of <c>sequenceBatches((bytes,bytes32,uint64,uint64)[] batches, address l2Coinbase)</c>.</summary>
public sealed record SequenceBatchesCall(IReadOnlyList<SequencedBatchData> Batches, string L2Coinbase)
{
    private static readonly byte[] Selector = Abi.Selector("sequenceBatches((bytes,bytes32,uint64,uint64)[],address)");

    /// <summary>Decodes call data; null with an <paramref name="error"/> for anything that is not a well-formed call.</summary>
    public static SequenceBatchesCall? TryDecode(ReadOnlySpan<byte> input, out string error)
    {
        if (input.Length < 4 || !input[..4].SequenceEqual(Selector))
        {
            error = "the transaction is not a sequenceBatches call";
            return null;
        }

        try
        {
            var args = input[4..].ToArray();
            var coinbase = Address(args, 32);
            var array = Offset(args, 0, 0);
            var count = Offset(args, array, 0);
            if (count == 0 || count > 100_000)
            {
                error = $"the call carries {count} batches";
                return null;
            }

            var items = array + 32;
            var batches = new List<SequencedBatchData>(count);
            for (var i = 0; i < count; i++)
            {
                var tuple = items + Offset(args, items + i * 32, 0);
                var bytesAt = tuple + Offset(args, tuple, 0);
                var length = Offset(args, bytesAt, 0);
                Check(args, bytesAt + 32, length);
                Check(args, tuple, 128);
                batches.Add(new SequencedBatchData(
                    args.AsSpan(bytesAt + 32, length).ToArray(),
                    args.AsSpan(tuple + 32, 32).ToArray(),
                    UInt64(args, tuple + 64),
                    UInt64(args, tuple + 96)));
            }

            error = string.Empty;
            return new SequenceBatchesCall(batches, coinbase);
        }
        catch (FormatException e)
        {
            error = $"malformed sequenceBatches call data: {e.Message}";
            return null;
        }
    }

    private static void Check(byte[] data, int offset, int length)
    {
        if (offset < 0 || length < 0 || offset > data.Length - length)
        {
            throw new FormatException($"{data.Length} bytes have no {length} bytes at offset {offset}");
        }
    }

    private static BigInteger Word(byte[] data, int offset)
    {
        Check(data, offset, 32);
        return new BigInteger(data.AsSpan(offset, 32), isUnsigned: true, isBigEndian: true);
    }

    /// <summary>A word used as an offset or a length (bounded by the data's size).</summary>
    private static int Offset(byte[] data, int at, int min)
    {
        var value = Word(data, at);
        return value >= min && value <= data.Length ? (int)value : throw new FormatException($"word at {at} ({value}) is out of range");
    }

    private static ulong UInt64(byte[] data, int offset)
    {
        var value = Word(data, offset);
        return value <= ulong.MaxValue ? (ulong)value : throw new FormatException($"word at {offset} is not a uint64");
    }

    private static string Address(byte[] data, int offset)
    {
        var value = Word(data, offset);
        return value < BigInteger.One << 160 ? HexData.Encode(data.AsSpan(offset + 12, 20)) : throw new FormatException("l2Coinbase is not an address");
    }
}
