namespace ZkPow.Devnet.Prover;

/// <summary>Ways a mock prover can misbehave, for testing how the aggregator copes with bad provers.</summary>
public enum MockProverMisbehaviour
{
    /// <summary>Behaves like a healthy prover.</summary>
    None = 0,

    /// <summary>Final proofs have the new state root altered (still well-formed and correctly encoded).</summary>
    WrongFinalProof,

    /// <summary>Drops the stream right after accepting each job, then reconnects with the same instance id (jobs kept).</summary>
    DisconnectMidJob,

    /// <summary>After accepting a job, answers nothing more on that stream but keeps it open (reads and ignores).</summary>
    StopAnswering,

    /// <summary>Restarts right after accepting each job: drops the stream, new instance id, all jobs forgotten.</summary>
    ForgetJobs,

    /// <summary>Every response echoes a wrong request id.</summary>
    WrongEchoId,

    /// <summary>GetStatus is answered properly; every other request is answered with a GetStatusResponse.</summary>
    WrongResponseType,

    /// <summary>Jobs complete OK with an empty recursive proof, or a final proof whose <c>proof</c> is empty.</summary>
    EmptyProof,

    /// <summary>Accepts every job and answers PENDING for it forever (the job never finishes); status says computing.</summary>
    PendingForever,

    /// <summary>A flapping connection: drops the stream every <see cref="MockProverOptions.FlapInterval"/> and reconnects
    /// with the same instance id (jobs kept).</summary>
    Flapping,

    /// <summary>Batch and aggregation jobs complete OK with junk (bytes that are no recursive proof); final jobs are fine.</summary>
    JunkRecursiveProof,

    /// <summary>Every job completes with RESULT_COMPLETED_ERROR.</summary>
    FailEveryJob,
}
