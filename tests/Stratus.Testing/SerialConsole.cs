using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Stratus.Testing;

/// <summary>
/// Types on a VM's serial console (its unix socket) as a person would, and reads what the shell prints. Each
/// command's output is framed by two lines the guest prints itself, which its echo of the typed line never contains.
/// </summary>
public sealed partial class SerialConsole : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly StringBuilder _received = new();
    private readonly Task _reading;
    private readonly CancellationTokenSource _stop = new();

    private SerialConsole(Socket socket)
    {
        _socket = socket;
        _reading = Task.Run(ReadAsync);
    }

    public static async Task<SerialConsole> ConnectAsync(string socketPath, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            return new SerialConsole(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Runs a shell command in the guest and returns what it printed (lines joined by '\n').</summary>
    public async Task<string> RunAsync(string command, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        await _socket.SendAsync(Encoding.ASCII.GetBytes($"printf '%s-%s\\n' begin {id}; {command}; printf '%s-%s\\n' end {id}\n"), cancellationToken);
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            var text = Clean(Snapshot());
            var begin = text.IndexOf($"begin-{id}\n", StringComparison.Ordinal);
            var end = begin < 0 ? -1 : text.IndexOf($"end-{id}", begin, StringComparison.Ordinal);
            if (end >= 0)
            {
                var start = begin + $"begin-{id}\n".Length;
                return text[start..end].TrimEnd('\n');
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new TimeoutException($"The guest did not finish `{command}` within {limit.TotalSeconds:0} s. Console so far:\n{Clean(Snapshot())}");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        try
        {
            await _reading;
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private string Snapshot()
    {
        lock (_received)
        {
            return _received.ToString();
        }
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            var count = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            if (count == 0)
            {
                return;
            }

            lock (_received)
            {
                _received.Append(Encoding.UTF8.GetString(buffer, 0, count));
            }
        }
    }

    private static string Clean(string text) => Escape().Replace(text, "").Replace("\r", "", StringComparison.Ordinal);

    [GeneratedRegex(@"\x1B(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_])")]
    private static partial Regex Escape();
}
