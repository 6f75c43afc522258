using ZkPow.Aggregator.Sender;

namespace ZkPow.Aggregator.Tests.Storage;

/// <summary>The submission store on each store (<see cref="SqliteSubmissionStoreTests"/>, <see cref="PostgresSubmissionStoreTests"/>).</summary>
public abstract class SubmissionStoreTests(StoreTarget target) : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;

    protected StoreTarget Target { get; } = target;

    public void Dispose()
    {
        Target.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task a_submission_round_trips_and_only_unfinished_ones_are_listed_as_open()
    {
        await using var store = await Target.OpenAsync();
        var committed = new SubmissionRecord
        {
            FinalBatch = 7,
            InitBatch = 4,
            State = SubmissionState.Committed,
            HashAttempt = 2,
            ProofAttempt = 1,
            RoundStart = 123,
            ProofHash = [1, 2, 3],
            Retries = 1,
            LastError = "window closed",
        };
        await store.SaveSubmissionAsync(committed, None);
        await store.SaveSubmissionAsync(new SubmissionRecord { FinalBatch = 3, InitBatch = 0, State = SubmissionState.Revealed }, None);
        await store.SaveSubmissionAsync(new SubmissionRecord { FinalBatch = 9, InitBatch = 7, State = SubmissionState.Parked, ParkedReason = "x" }, None);
        await store.SaveSubmissionAsync(new SubmissionRecord { FinalBatch = 4, InitBatch = 3, State = SubmissionState.Queued }, None);

        var read = await store.GetSubmissionAsync(7, None);
        Assert.Equal(committed with { ProofHash = read!.ProofHash }, read);
        Assert.Equal(committed.ProofHash, read.ProofHash);
        Assert.Null(await store.GetSubmissionAsync(8, None));
        Assert.Equal([4UL, 7UL], (await store.ListOpenSubmissionsAsync(None)).Select(s => s.FinalBatch));

        await store.SaveSubmissionAsync(committed with { State = SubmissionState.Revealed, RoundStart = null }, None);
        Assert.Equal([4UL], (await store.ListOpenSubmissionsAsync(None)).Select(s => s.FinalBatch));
        Assert.Null((await store.GetSubmissionAsync(7, None))!.RoundStart);
    }

    [Fact]
    public async Task final_proofs_without_a_submission_or_waiting_for_a_new_proof_are_unsent()
    {
        await using var store = await Target.OpenAsync();
        await store.AddSequenceAsync(StoreBuilder.Sequence(0, 1), None);
        await store.AddSequenceAsync(StoreBuilder.Sequence(1, 2), None);
        await store.AddSequenceAsync(StoreBuilder.Sequence(3, 1), None);
        foreach (var (final, init) in new[] { (1, 0), (3, 1), (4, 3) })
        {
            var blob = Target.BlobLiteral("00");
            await Target.QueryAsync($"""
                INSERT INTO final_proofs (final_batch, init_batch, proof, aggregator_addr, new_state_root, new_acc_input_hash,
                                          new_local_exit_root, prover_name, created_ms)
                VALUES ({final}, {init}, '0x00', '0x00', {blob}, {blob}, {blob}, 'p', 0);
                """);
        }

        await store.SaveSubmissionAsync(new SubmissionRecord { FinalBatch = 1, InitBatch = 0, State = SubmissionState.Committed }, None);
        await store.SaveSubmissionAsync(new SubmissionRecord { FinalBatch = 4, InitBatch = 3, State = SubmissionState.Reproving }, None);

        Assert.Equal([3UL, 4UL], await store.ListUnsentFinalProofsAsync(None));
    }
}
