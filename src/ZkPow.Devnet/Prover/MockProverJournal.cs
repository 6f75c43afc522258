using System.Text;
using System.Text.Json;

namespace ZkPow.Devnet.Prover;

/// <summary>
/// Appends one JSON line per received Gen*Request to a file. Each line is written under an exclusive file lock and
/// flushed before the lock is released, so several provers (in this or other processes) can share one file.
/// </summary>
public sealed class MockProverJournal(string path, TimeProvider timeProvider)
{
    private const int MaxAttempts = 500;

    public string Path { get; } = path;

    /// <summary>Reads every complete line of a journal file (a partly written last line is skipped).</summary>
    public static IReadOnlyList<MockJournalEntry> ReadAll(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        var entries = new List<MockJournalEntry>();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                if (JsonSerializer.Deserialize(line, MockJournalJsonContext.Default.MockJournalEntry) is { } entry)
                {
                    entries.Add(entry);
                }
            }
            catch (JsonException)
            {
                // A line still being written by another process.
            }
        }

        return entries;
    }

    /// <summary>Appends and flushes one line.</summary>
    public async ValueTask AppendAsync(MockJournalEntry entry, CancellationToken cancellationToken)
    {
        var line = JsonSerializer.SerializeToUtf8Bytes(entry, MockJournalJsonContext.Default.MockJournalEntry);
        var bytes = new byte[line.Length + 1];
        line.CopyTo(bytes, 0);
        bytes[^1] = (byte)'\n';

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // FileShare.None takes an exclusive lock (flock on Unix) for the duration of the write.
                await using var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.None,
                    bufferSize: 1, FileOptions.None);
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (IOException) when (attempt < MaxAttempts && File.Exists(Path))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(1), timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
