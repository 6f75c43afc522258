using System.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Tests.Hosting.PreparedCode;
using ZkPow.Aggregator.Tests.Hosting.UnpreparedCode;

namespace ZkPow.Aggregator.Tests.Hosting;

public sealed class CodePreparationTests
{
    [Fact]
    public void a_prepared_method_compiles_nothing_at_its_first_call_and_one_of_another_namespace_still_does()
    {
        var prepared = CodePreparation.Prepare(typeof(CodePreparationTests).Assembly, ["ZkPow.Aggregator.Tests.Hosting.PreparedCode"], NullLogger.Instance);
        Assert.Equal(1, prepared); // PreparedMath.Twice, the namespace's one method

        _ = JitInfo.GetCompiledMethodCount(currentThread: true);
        var before = JitInfo.GetCompiledMethodCount(currentThread: true);
        Assert.Equal(6, PreparedMath.Twice(3));
        var afterPrepared = JitInfo.GetCompiledMethodCount(currentThread: true);
        Assert.Equal(8, UnpreparedMath.Twice(4));
        var afterUnprepared = JitInfo.GetCompiledMethodCount(currentThread: true);

        Assert.Equal(before, afterPrepared);
        Assert.True(afterUnprepared > afterPrepared, "the first call of a method that was not prepared compiled nothing: the count cannot tell");
    }

    [Fact]
    public void the_aggregators_sender_path_is_prepared_without_an_error()
    {
        var prepared = CodePreparation.Prepare(typeof(CodePreparation).Assembly, CodePreparation.SenderPath, NullLogger.Instance);
        Assert.True(prepared > 1_000, $"prepared {prepared} methods of {string.Join(", ", CodePreparation.SenderPath)}");
    }
}
