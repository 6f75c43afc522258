using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Tests.Generator;

public sealed class OutcomeBackpressureTests
{
    [Fact]
    public async Task while_the_store_cannot_keep_up_provers_get_no_new_job_past_the_bound_of_proofs_not_yet_stored()
    {
        var storeOpen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        FaultyGeneratorStore? faulty = null;
        await using var harness = await GeneratorHarness.StartAsync(
            new GeneratorOptions { MaxPendingOutcomeBytes = 1024 * 1024 },
            wrapStore: store => faulty = new FaultyGeneratorStore(store)
            {
                // Proofs are written only once the test opens the store: everything received waits in memory.
                Before = call => call == nameof(IGeneratorStore.CompleteAsync) ? storeOpen.Task : Task.CompletedTask,
            });
        const int provers = 3;
        for (var i = 0; i < provers; i++)
        {
            // Each recursive proof is 600 KB: two of them not stored are past the 1 MiB bound.
            harness.AddProver($"gpu-{i}", o => o.ProofBytes = 600_000);
        }

        await harness.AddSequenceAsync(8);
        await GeneratorHarness.WaitUntilAsync(() => harness.Generator.Metrics.BackpressureWaits >= provers, what: "every prover waiting for the store");

        // Every prover finished one job and waits: no further batch is requested while nothing is stored.
        await Task.Delay(500);
        Assert.Equal(provers, harness.Generator.Metrics.DispatchSamples().Length);

        storeOpen.SetResult();
        await harness.WaitForFinalsAsync(1);
        Assert.Equal(8, harness.Generator.Metrics.Completed(TaskKind.Batch));
        Assert.NotNull(faulty);
    }
}
