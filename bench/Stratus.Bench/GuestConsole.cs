using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Stratus.Bench;

/// <summary>
/// A shell command typed on a VM's serial console (its unix socket; the tiny image runs a root shell on ttyS0)
/// and what it printed. The output is framed by two lines the guest prints itself, which the echo of the typed
/// line never contains. The same way as tests/Stratus.Testing/SerialConsole.cs, which the benchmark cannot
/// reference: that project brings xunit.
/// </summary>
internal sealed partial class GuestConsole : IAsyncDisposable
{
    private readonly Socket socket;
    private readonly StringBuilder received = new();
    private readonly CancellationTokenSource stop = new();
    private readonly Task reading;

    private GuestConsole(Socket socket)
    {
        this.socket = socket;
        reading = Task.Run(ReadAsync);
    }

    public static async Task<GuestConsole> ConnectAsync(string socketPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            return new GuestConsole(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="command"/> in the guest's shell and returns its output (lines joined by '\n').</summary>
    public async Task<string> RunAsync(string command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        await socket.SendAsync(Encoding.ASCII.GetBytes($"printf '%s-%s\\n' begin {id}; {command}; printf '%s-%s\\n' end {id}\n"), cancellationToken);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var text = Clean(Received());
            var begin = text.IndexOf($"begin-{id}\n", StringComparison.Ordinal);
            var end = begin < 0 ? -1 : text.IndexOf($"end-{id}", begin, StringComparison.Ordinal);
            if (end >= 0)
            {
                return text[(begin + $"begin-{id}\n".Length)..end].TrimEnd('\n');
            }

            await Task.Delay(100, cancellationToken);
        }

        var tail = string.Join('\n', Clean(Received()).Split('\n').TakeLast(10));
        throw new TimeoutException($"The guest did not finish `{command}` within {timeout.TotalSeconds:0} s; its console ends with:\n{tail}");
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        socket.Dispose();
        try
        {
            await reading;
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The reader ends with the socket.
        }

        stop.Dispose();
    }

    private string Received()
    {
        lock (received)
        {
            return received.ToString();
        }
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[4096];
        while (!stop.IsCancellationRequested)
        {
            var count = await socket.ReceiveAsync(buffer, SocketFlags.None, stop.Token);
            if (count == 0)
            {
                return;
            }

            lock (received)
            {
                received.Append(Encoding.UTF8.GetString(buffer, 0, count));
            }
        }
    }

    // The shell's line editing and the terminal's escapes, and the CR of CRLF.
    private static string Clean(string text) => Escape().Replace(text, "").Replace("\r", "", StringComparison.Ordinal);

    [GeneratedRegex(@"\x1B(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_])")]
    private static partial Regex Escape();
}
