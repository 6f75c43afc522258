using System.Runtime.CompilerServices;

namespace ZkPow.Aggregator.Tests.Hosting.UnpreparedCode;

/// <summary>Never prepared: the control of CodePreparationTests.</summary>
internal static class UnpreparedMath
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Twice(int value) => value * 2;
}
