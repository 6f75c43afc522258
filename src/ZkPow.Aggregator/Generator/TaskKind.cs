namespace ZkPow.Aggregator.Generator;

/// <summary>The three kinds of proof task. The numeric values are stored; do not renumber.</summary>
public enum TaskKind
{
    /// <summary>One batch → a recursive proof.</summary>
    Batch = 0,

    /// <summary>Two adjacent recursive proofs of the same sequence → one recursive proof.</summary>
    Aggregate = 1,

    /// <summary>A recursive proof covering a whole sequence → the final SNARK bound to the miner's address.</summary>
    Final = 2,
}
