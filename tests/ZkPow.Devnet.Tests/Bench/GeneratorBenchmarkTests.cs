using ZkPow.Aggregator.Protocol;
using ZkPow.Devnet.Bench;

namespace ZkPow.Devnet.Tests.Bench;

public sealed class GeneratorBenchmarkTests
{
    [Fact]
    public void the_bench_builds_batch_inputs_as_the_sync_does_with_the_miner_as_aggregator()
    {
        var sequences = GeneratorBenchmark.BuildSequences(new GeneratorBenchmarkOptions { Sequences = 4, MaxBatches = 3, Seed = 5 });
        Assert.Equal(4, sequences.Count);
        var expectedOld = 0UL;
        foreach (var sequence in sequences)
        {
            Assert.Equal(expectedOld, sequence.InitBatch);
            foreach (var batch in sequence.Batches)
            {
                var inputs = InputProver.Parser.ParseFrom(batch.ProverInput).PublicInputs;
                Assert.Equal(GeneratorBenchmark.MinerAddress, inputs.AggregatorAddr);
                Assert.Equal((1001UL, 6UL, batch.Number - 1), (inputs.ChainId, inputs.ForkId, inputs.OldBatchNum));
                Assert.Equal((32, 32, 32), (inputs.OldStateRoot.Length, inputs.OldAccInputHash.Length, inputs.GlobalExitRoot.Length));
                Assert.Equal(42, inputs.SequencerAddr.Length);
                Assert.True(inputs.EthTimestamp > 0);
                Assert.False(inputs.BatchL2Data.IsEmpty);
            }

            expectedOld = sequence.FinalBatch;
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(GeneratorBenchmarkOptions.MaxProofBytes + 1)]
    public void proof_sizes_that_cannot_fit_an_aggregation_request_are_refused(int proofBytes)
    {
        var error = Assert.Throws<ArgumentException>(new GeneratorBenchmarkOptions { ProofBytes = proofBytes }.Validate);
        Assert.Contains("--proof-bytes", error.Message, StringComparison.Ordinal);
        new GeneratorBenchmarkOptions { ProofBytes = GeneratorBenchmarkOptions.MaxProofBytes }.Validate();
    }

    [Fact]
    public void two_proofs_of_the_largest_size_fit_an_aggregation_request_within_the_send_limit()
    {
        var proof = new string('0', GeneratorBenchmarkOptions.MaxProofBytes);
        var request = new AggregatorMessage
        {
            Id = Guid.NewGuid().ToString(),
            GenAggregatedProofRequest = new GenAggregatedProofRequest { RecursiveProof1 = proof, RecursiveProof2 = proof },
        };
        Assert.True(request.CalculateSize() <= new ProverSessionOptions().MaxSendBytes);
    }

    public static TheoryData<string, int, string?, string?, int, string, string> StoreOptionErrors => new()
    {
        { "oracle", 1, null, null, 4, "FULL", "--store must be sqlite or postgres, not 'oracle'" },
        { "sqlite", 2, null, null, 4, "FULL", "--replicas 2 needs --store postgres" },
        { "postgres", 0, null, null, 4, "FULL", "--replicas must be between 1 and 16, not 0" },
        { "postgres", 17, null, null, 4, "FULL", "--replicas must be between 1 and 16, not 17" },
        { "postgres", 2, null, null, 0, "FULL", "--provers 0 serves external provers on one port" },
        { "sqlite", 1, "Host=127.0.0.1;Database=bench", null, 4, "FULL", "--store-connection names a PostgreSQL database: it needs --store postgres" },
        { "postgres", 1, "Hots=127.0.0.1", null, 4, "FULL", "--store-connection is not a PostgreSQL connection string" },
        { "postgres", 1, "Host=127.0.0.1", null, 4, "FULL", "--store-connection must name a host and a database" },
        { "postgres", 1, null, "/tmp/bench.db", 4, "FULL", "--db names the SQLite file: with --store postgres use --store-connection" },
        { "postgres", 1, null, null, 4, "NORMAL", "--sqlite-synchronous applies to --store sqlite only" },
    };

    [Theory]
    [MemberData(nameof(StoreOptionErrors))]
    public void store_options_that_do_not_go_together_are_refused(string store, int replicas, string? connection, string? db, int provers,
        string synchronous, string message)
    {
        var options = new GeneratorBenchmarkOptions
        {
            Store = store,
            Replicas = replicas,
            StoreConnection = connection,
            DatabasePath = db,
            Provers = provers,
            SqliteSynchronous = synchronous,
        };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void postgres_with_replicas_and_a_database_is_accepted()
    {
        new GeneratorBenchmarkOptions { Store = "postgres", Replicas = 3, StoreConnection = "Host=127.0.0.1;Port=5432;Username=postgres;Database=bench" }.Validate();
        new GeneratorBenchmarkOptions { Store = "POSTGRES", Replicas = GeneratorBenchmarkOptions.MaxReplicas }.Validate();
        new GeneratorBenchmarkOptions { Store = "sqlite" }.Validate();
    }
}
