using Google.Protobuf;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Protocol;
using ZkPow.Devnet.Proof;

namespace ZkPow.Devnet.Prover;

/// <summary>Computes the mock prover's proofs with the devnet rules; bad inputs give failed outcomes, not exceptions.</summary>
internal static class MockProofComputer
{
    public static MockComputation Batch(GenBatchProofRequest request, ulong proverForkId, bool emptyProof, int proofBytes = 0)
    {
        var inputs = request.Input?.PublicInputs;
        if (inputs is null)
        {
            return Failed("missing public inputs");
        }

        var oldBatch = inputs.OldBatchNum;
        var newBatch = oldBatch + 1;
        if (inputs.ForkId != proverForkId)
        {
            return Failed($"fork id {inputs.ForkId} is not supported by this prover (fork id {proverForkId})", oldBatch, newBatch);
        }

        if (inputs.OldStateRoot.Length != 32 || inputs.OldAccInputHash.Length != 32)
        {
            return Failed("old_state_root and old_acc_input_hash must be 32 bytes", oldBatch, newBatch);
        }

        var globalExitRoot = inputs.GlobalExitRoot.Length switch
        {
            0 => new byte[32],
            32 => inputs.GlobalExitRoot.ToByteArray(),
            _ => null,
        };
        if (globalExitRoot is null)
        {
            return Failed("global_exit_root must be 32 bytes", oldBatch, newBatch);
        }

        if (!HexData.TryDecodeAddress(inputs.SequencerAddr, out _))
        {
            return Failed($"invalid sequencer_addr '{inputs.SequencerAddr}'", oldBatch, newBatch);
        }

        var proof = MockRecursiveProof.ForBatch(inputs.ChainId, inputs.ForkId, inputs.SequencerAddr, oldBatch,
            inputs.OldStateRoot.ToByteArray(), inputs.OldAccInputHash.ToByteArray(), inputs.BatchL2Data.ToByteArray(),
            globalExitRoot, inputs.EthTimestamp);
        return new MockComputation(MockJobOutcome.Recursive(emptyProof ? "" : proof.ToJson(proofBytes)), oldBatch, newBatch);
    }

    public static MockComputation Aggregate(GenAggregatedProofRequest request, bool emptyProof, int proofBytes = 0)
    {
        var lowerOk = MockRecursiveProof.TryParse(request.RecursiveProof1, out var lower, out var lowerError);
        var upperOk = MockRecursiveProof.TryParse(request.RecursiveProof2, out var upper, out var upperError);
        if (!lowerOk || !upperOk)
        {
            return Failed(lowerError ?? upperError ?? "unparseable recursive proof", lower?.OldBatch, upper?.NewBatch);
        }

        if (!MockRecursiveProof.TryAggregate(lower!, upper!, out var aggregated, out var error))
        {
            return Failed(error, lower!.OldBatch, upper!.NewBatch);
        }

        return new MockComputation(MockJobOutcome.Recursive(emptyProof ? "" : aggregated.ToJson(proofBytes)),
            aggregated.OldBatch, aggregated.NewBatch);
    }

    public static MockComputation Final(GenFinalProofRequest request, bool wrongProof, bool emptyProof)
    {
        if (!MockRecursiveProof.TryParse(request.RecursiveProof, out var recursive, out var error))
        {
            return Failed(error);
        }

        if (!HexData.TryDecodeAddress(request.AggregatorAddr, out var aggregator))
        {
            return Failed($"invalid aggregator_addr '{request.AggregatorAddr}'", recursive.OldBatch, recursive.NewBatch);
        }

        var proof = recursive.ToFinalProof(aggregator);
        var claimed = proof;
        if (wrongProof)
        {
            var altered = (byte[])proof.NewStateRoot.Clone();
            altered[^1] ^= 0x01;
            claimed = proof with { NewStateRoot = altered };
        }

        var final = new FinalProof
        {
            Proof = emptyProof ? "" : HexData.Encode(claimed.Encode()),
            Public = new PublicInputsExtended
            {
                PublicInputs = new PublicInputs
                {
                    OldStateRoot = ByteString.CopyFrom(proof.OldStateRoot),
                    OldAccInputHash = ByteString.CopyFrom(proof.OldAccInputHash),
                    OldBatchNum = proof.InitNumBatch,
                    ChainId = proof.ChainId,
                    ForkId = proof.ForkId,
                    SequencerAddr = recursive.Coinbase,
                    AggregatorAddr = request.AggregatorAddr,
                },
                NewStateRoot = ByteString.CopyFrom(proof.NewStateRoot),
                NewAccInputHash = ByteString.CopyFrom(proof.NewAccInputHash),
                NewLocalExitRoot = ByteString.CopyFrom(proof.NewLocalExitRoot),
                NewBatchNum = proof.FinalNewBatch,
            },
        };
        return new MockComputation(MockJobOutcome.Final(final), proof.InitNumBatch, proof.FinalNewBatch);
    }

    private static MockComputation Failed(string error, ulong? oldBatch = null, ulong? newBatch = null) =>
        new(MockJobOutcome.Failed(error), oldBatch, newBatch);
}
