namespace ZkPow.Aggregator.Generator;

/// <summary>
/// A sequence to prove: the batches (InitBatch, FinalBatch], each with its complete prover input
/// (a serialized <c>InputProver</c> message, kept byte for byte).
/// </summary>
public sealed record SequenceInput(ulong InitBatch, ulong FinalBatch, IReadOnlyList<BatchInput> Batches)
{
    public void Validate()
    {
        if (FinalBatch <= InitBatch)
        {
            throw new ArgumentException($"sequence ({InitBatch},{FinalBatch}] is empty");
        }

        if (Batches.Count != (int)(FinalBatch - InitBatch))
        {
            throw new ArgumentException(
                $"sequence ({InitBatch},{FinalBatch}] needs {FinalBatch - InitBatch} batch inputs, got {Batches.Count}");
        }

        for (var i = 0; i < Batches.Count; i++)
        {
            if (Batches[i].Number != InitBatch + 1 + (ulong)i)
            {
                throw new ArgumentException($"sequence ({InitBatch},{FinalBatch}]: batch input {i} is batch {Batches[i].Number}");
            }
        }
    }
}
