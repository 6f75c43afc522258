using System.Runtime.InteropServices;

namespace ZkPow.Cli;

/// <summary>
/// SIGINT and SIGTERM for the whole command line: the first one cancels <see cref="Token"/> (commands stop cleanly, in
/// their own time) and decides the exit code, 130 or 143 as a shell expects. The process is never cut short by the
/// signal itself; <c>zkpow run</c>'s host also stops on it through its console lifetime.
/// </summary>
internal sealed class CliSignals : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _signal;

    public CliSignals()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    /// <summary>Cancelled by the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>128 + the signal number once a signal arrived (130 for SIGINT, 143 for SIGTERM), else null.</summary>
    public int? ExitCode => Volatile.Read(ref _signal) switch
    {
        0 => null,
        var signal => 128 + signal,
    };

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        var number = context.Signal == PosixSignal.SIGINT ? 2 : 15;
        Interlocked.CompareExchange(ref _signal, number, 0);
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The command has already returned.
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _cancel.Dispose();
    }
}
