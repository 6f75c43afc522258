using System.Runtime.InteropServices;

namespace ZkPow.Devnet.Prover;

/// <summary>Sleeps finer than a millisecond (the runtime's sleeps and waits count whole milliseconds).</summary>
internal static partial class NativeSleep
{
    /// <summary>Sleeps about this many microseconds (Linux: usleep, which wakes some tens of microseconds late);
    /// elsewhere yields the processor instead.</summary>
    public static void Microseconds(uint microseconds)
    {
        if (OperatingSystem.IsLinux())
        {
            _ = USleep(microseconds);
        }
        else
        {
            Thread.Yield();
        }
    }

    [LibraryImport("libc", EntryPoint = "usleep")]
    private static partial int USleep(uint microseconds);
}
