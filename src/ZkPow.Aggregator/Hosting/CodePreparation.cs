using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// Compiles ahead the aggregator's own code on the way from a stored final proof to its hash broadcast. The runtime
/// compiles a method the first time it runs, and the first hash after start-up ran a few hundred of them for the first
/// time (about 30 ms of compiling on a 2-core machine busy with the generator's work: docs/benchmarks.md, "Hash
/// broadcast"). Preparing them while the sender's warm-up reads wait for the node moves that work before the first
/// proof. Generic methods and the methods of generic types need their type arguments and are left to their first call,
/// as is the runtime's own code.
/// </summary>
internal static partial class CodePreparation
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>The aggregator's namespaces on that way: the Proof Manager's hand-over, the sender, the chain client and
    /// tx manager, and the stores.</summary>
    public static IReadOnlyList<string> SenderPath { get; } =
        ["ZkPow.Aggregator.Manager", "ZkPow.Aggregator.Sender", "ZkPow.Aggregator.Chain", "ZkPow.Aggregator.Storage"];

    /// <summary>Prepares every method and constructor of the types of <paramref name="assembly"/> in
    /// <paramref name="namespaces"/> (nested types, async state machines and lambdas included); returns how many were
    /// prepared.</summary>
    public static int Prepare(Assembly assembly, IReadOnlyList<string> namespaces, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(namespaces);
        ArgumentNullException.ThrowIfNull(logger);
        var started = Stopwatch.GetTimestamp();
        var prepared = 0;
        foreach (var type in assembly.GetTypes())
        {
            if (type.Namespace is not { } ns || !namespaces.Contains(ns, StringComparer.Ordinal) || type.ContainsGenericParameters || type.IsInterface)
            {
                continue;
            }

            foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
            {
                if (method.IsAbstract || method.ContainsGenericParameters || method.GetMethodBody() is null)
                {
                    continue;
                }

                try
                {
                    RuntimeHelpers.PrepareMethod(method.MethodHandle);
                    prepared++;
                }
                catch (Exception e) when (e is ArgumentException or NotSupportedException or TypeLoadException or BadImageFormatException)
                {
                    // Not preparable alone: compiled at its first call, as without this.
                }
            }
        }

        LogPrepared(logger, prepared, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return prepared;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Compiled {Count} methods ahead in {Ms:0} ms")]
    private static partial void LogPrepared(ILogger logger, int count, double ms);
}
