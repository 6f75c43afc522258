using System.Numerics;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

public abstract class TwoMinerTests(StoreKind store)
{
    [Fact]
    public async Task both_miners_are_paid_to_the_wei_a_late_reveal_is_paid_and_a_copier_earns_nothing()
    {
        // A's reveal must land in the round's proof window: a wide one, so that a starved machine does not miss it.
        const byte t1 = 5, t2 = 20;
        await using var h = await SenderHarness.StartAsync(store, t1, t2);
        var a = h.Chain.Miners[0];
        var b = h.Chain.Miners[1];
        var copier = h.Chain.Miners[2];
        var aggA = await h.StartMinerAsync(a, "a");
        var aggB = await h.StartMinerAsync(b, "b");
        h.AddProver(aggA, "a-gpu");
        h.AddProver(aggB, "b-gpu");
        var sequence = await h.SequenceAsync(1, aggA, aggB);
        await h.HashesInOneBlockAsync(sequence.FinalNewBatch, aggA, aggB); // both in the round (the scenario)

        // B stops right after its hash is on chain, before its proof window opens.
        await SenderHarness.WaitUntilAsync(async () => (await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, b.Address, default)).Exists,
            TimeSpan.FromSeconds(20), "B's commitment");
        await h.StopMinerAsync(aggB);
        await SenderHarness.WaitUntilAsync(async () => (await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, a.Address, default)).Exists,
            TimeSpan.FromSeconds(20), "A's commitment");
        var round = (await h.Reader.GetSequenceAsync(sequence.FinalNewBatch, default)).RoundStart;
        var ofA = await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, a.Address, default);
        var ofB = await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, b.Address, default);
        Assert.True(ofA.RoundStart == round && ofB.RoundStart == round, $"A and B share the round {round}: A {ofA}, B {ofB}");

        await h.WaitForVerifiedAsync(sequence.FinalNewBatch, TimeSpan.FromSeconds(30));

        // A staked third account copies A's reveal from the mempool: with no commitment of its own it cannot use it.
        var reveal = await aggA.Tx.GetAsync(TxRequest.KeyFor("verifyBatches", sequence.FinalNewBatch, 0), default);
        await Assert.ThrowsAsync<ContractRevertException>(() => h.Chain.SendAsync(copier, h.Chain.Contracts.Rollup, reveal!.Data));
        var proofA = HexData.Decode((await aggA.Store.GetFinalProofAsync(sequence.FinalNewBatch, default))!.Proof);
        await Assert.ThrowsAsync<ContractRevertException>(() => h.Chain.SendAsync(copier, h.Chain.Contracts.Rollup,
            RollupCalls.SubmitProofHash(sequence.InitNumBatch, sequence.FinalNewBatch, ProofHash.Compute(proofA, copier.Address))));

        // B comes back after the round's end: submitPendingProof reveals late; it is paid and not slashed.
        await SenderHarness.WaitUntilAsync(async () => await h.Reader.GetBlockNumberAsync(default) > round + t1 + t2 + 1, TimeSpan.FromSeconds(20),
            "the round to end");
        aggB = await h.StartMinerAsync(b, "b");
        await SenderHarness.WaitUntilAsync(async () => (await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, b.Address, default)).Proved,
            TimeSpan.FromSeconds(15), "B's late reveal");

        var events = await h.EventsAsync();
        var paid = events.OfType<RewardPaidEvent>().ToList();
        var stakeA = await h.Chain.GetStakeAsync(a.Address);
        var stakeB = await h.Chain.GetStakeAsync(b.Address);
        var reward = Wei.FromEther(1);
        Assert.Equal(reward * stakeA / (stakeA + stakeB), Assert.Single(paid, e => SenderHarness.Same(e.Prover, a.Address)).Amount);
        Assert.Equal(reward * stakeB / (stakeA + stakeB), Assert.Single(paid, e => SenderHarness.Same(e.Prover, b.Address)).Amount);
        Assert.DoesNotContain(paid, e => SenderHarness.Same(e.Prover, copier.Address));
        Assert.Empty(events.OfType<SlashedEvent>());
        Assert.Equal(1, events.OfType<SubmitProofHashEvent>().Count(e => SenderHarness.Same(e.Prover, b.Address)));
        Assert.Equal(new BigInteger(1), new BigInteger(events.OfType<VerifyBatchesEvent>().Count()));
    }
}
