using System.Reflection;
using System.Runtime.ExceptionServices;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary>
/// A real store whose <see cref="ITxStore.CreateTxAsync"/>, for a key that exists already, hands back the record it read
/// only once <see cref="Hold"/> has completed: a submission that read a record just before the tx manager's loop moved it
/// on. Every other call goes straight to the store.
/// </summary>
public class HeldCreateStore : DispatchProxy
{
    private IAggregatorStore _inner = null!;

    /// <summary>What a create of an existing key waits for before it returns; null: no wait.</summary>
    public Task? Hold { get; set; }

    /// <summary>The records handed back after a wait, as they were read.</summary>
    public List<TxRecord> HeldReads { get; } = [];

    public static (IAggregatorStore Store, HeldCreateStore Control) Wrap(IAggregatorStore inner)
    {
        var store = Create<IAggregatorStore, HeldCreateStore>();
        var control = (HeldCreateStore)(object)store;
        control._inner = inner;
        return (store, control);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        object? result;
        try
        {
            result = targetMethod!.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }

        return targetMethod.Name == nameof(ITxStore.CreateTxAsync) ? HoldAsync((Task<TxCreateResult>)result!) : result;
    }

    private async Task<TxCreateResult> HoldAsync(Task<TxCreateResult> create)
    {
        var created = await create;
        if (!created.Created && Hold is { } hold)
        {
            await hold;
            lock (HeldReads)
            {
                HeldReads.Add(created.Record);
            }
        }

        return created;
    }
}
