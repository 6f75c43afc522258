using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ZkPow.Aggregator.Tests.Chain;

/// <summary>
/// A loopback HTTP/1.1 endpoint that reads each request and never answers it (a node that stalls without end), and
/// notices when the client gives a request up (closes the connection): <see cref="Received"/> requests read,
/// <see cref="Abandoned"/> of them given up by the client.
/// </summary>
internal sealed class SilentRpcServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private int _received;
    private int _abandoned;

    public SilentRpcServer()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";
        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }

    public int Received => Volatile.Read(ref _received);

    public int Abandoned => Volatile.Read(ref _abandoned);

    private async Task LoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => HoldAsync(client));
        }
    }

    /// <summary>Reads the request (headers and body), then waits until the client closes the connection.</summary>
    private async Task HoldAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var buffer = new byte[64 * 1024];
            var read = 0;
            try
            {
                while (true)
                {
                    var n = await stream.ReadAsync(buffer.AsMemory(read), _stopping.Token);
                    if (n == 0)
                    {
                        return;
                    }

                    read += n;
                    var text = Encoding.ASCII.GetString(buffer, 0, read);
                    var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                    if (end >= 0 && read >= end + 4 + ContentLength(text[..end]))
                    {
                        break;
                    }
                }

                Interlocked.Increment(ref _received);
                while (await stream.ReadAsync(buffer, _stopping.Token) > 0)
                {
                    // Nothing more is expected; the connection stays open until the client closes it.
                }
            }
            catch (Exception e) when (e is OperationCanceledException && _stopping.IsCancellationRequested)
            {
                return;
            }
            catch (IOException)
            {
                // A reset: given up as well.
            }

            Interlocked.Increment(ref _abandoned);
        }
    }

    private static int ContentLength(string headers)
    {
        foreach (var line in headers.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                return int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _loop;
        _stopping.Dispose();
    }
}
