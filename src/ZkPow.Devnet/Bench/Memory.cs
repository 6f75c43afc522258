using System.Diagnostics;

namespace ZkPow.Devnet.Bench;

/// <summary>The benchmark's memory and raw disk figures.</summary>
internal static class Memory
{
    /// <summary>Resident memory of this process now, bytes.</summary>
    public static long Rss()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    /// <summary>Peak resident memory of this process so far (VmHWM on Linux), bytes.</summary>
    public static long PeakRss()
    {
        using var process = Process.GetCurrentProcess();
        return Math.Max(process.PeakWorkingSet64, process.WorkingSet64);
    }

    /// <summary>Writes <paramref name="totalBytes"/> to a new file in <paramref name="directory"/>, <paramref name="chunkBytes"/> at a
    /// time, each write followed by an fsync, and returns the rate in MB/s (10^6 bytes). The file is removed afterwards.</summary>
    public static double RawWriteFsyncMbPerSecond(string directory, long totalBytes, int chunkBytes, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkBytes);
        var path = Path.Combine(directory, $"zkpow-raw-write-{Guid.NewGuid():N}.bin");
        var chunk = new byte[chunkBytes];
        new Random(1).NextBytes(chunk);
        try
        {
            var watch = Stopwatch.StartNew();
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                for (long written = 0; written < totalBytes; written += chunkBytes)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    file.Write(chunk, 0, (int)Math.Min(chunkBytes, totalBytes - written));
                    file.Flush(flushToDisk: true);
                }
            }

            return totalBytes / 1e6 / watch.Elapsed.TotalSeconds;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
