using Google.Protobuf;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Protocol;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Tests.Storage;

/// <summary>Test data: stores and sequences with placeholder prover inputs.</summary>
internal static class StoreBuilder
{
    public static Task<SqliteStore> OpenAsync(TempDir dir, string name = "store.db", TimeProvider? time = null) =>
        SqliteStore.OpenAsync(new StoreOptions { SqlitePath = dir.File(name) }, time ?? TimeProvider.System, CancellationToken.None);

    public static SequenceInput Sequence(ulong init, int batches) =>
        new(init, init + (ulong)batches, [.. Enumerable.Range(1, batches).Select(i => Batch(init + (ulong)i))]);

    public static BatchInput Batch(ulong number) => new(number, new InputProver
    {
        PublicInputs = new PublicInputs { OldBatchNum = number - 1, ChainId = 1001, ForkId = 6, BatchL2Data = ByteString.CopyFrom([(byte)number]) },
    }.ToByteArray());

    public static ProverRef Prover(string name = "p1", string instance = "i1") => new(name, instance);
}
