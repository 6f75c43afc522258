using System.Runtime.CompilerServices;

namespace ZkPow.Aggregator.Tests.Hosting.PreparedCode;

/// <summary>Prepared by CodePreparationTests before its first call.</summary>
internal static class PreparedMath
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Twice(int value) => value * 2;
}
