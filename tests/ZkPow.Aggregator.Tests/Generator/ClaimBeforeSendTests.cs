using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Tests.Generator;

/// <summary><c>Generator:ClaimBeforeSend</c> on SQLite: by default a batch request goes out while its claim commits; with
/// the option it waits for the claim (as every request does on a store shared by replicas).</summary>
public sealed class ClaimBeforeSendTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task a_batch_request_waits_for_its_claim_only_when_told_to(bool claimBeforeSend)
    {
        var claimed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var h = await GeneratorHarness.StartAsync(new GeneratorOptions { ClaimBeforeSend = claimBeforeSend },
            wrapStore: s => new FaultyGeneratorStore(s)
            {
                Before = call =>
                {
                    if (call != nameof(IGeneratorStore.TryClaimAsync))
                    {
                        return Task.CompletedTask;
                    }

                    claimed.TrySetResult();
                    return gate.Task; // The claim is slow to commit until the test lets it.
                },
            });
        var prover = h.AddProver("p0");
        await h.AddSequenceAsync(1);
        await claimed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        if (claimBeforeSend)
        {
            // The request waits for the claim: however long the claim takes, no job starts.
            await Task.Delay(300);
            Assert.Equal(0, prover.Counters.BatchJobsStarted);
        }
        else
        {
            // The request goes out while the claim commits.
            await GeneratorHarness.WaitUntilAsync(() => prover.Counters.BatchJobsStarted == 1, what: "the batch job started before its claim committed");
        }

        gate.SetResult();
        await h.WaitForFinalsAsync(1);
        Assert.Equal(1, prover.Counters.BatchJobsStarted);
    }
}
