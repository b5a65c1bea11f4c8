using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;

namespace Stratus.HostAgent.Tests.Support;

/// <summary>
/// An HTTP server on every host address (as a Stratus API or an etcd would be), one fixed answer: what a confined
/// guest must never reach.
/// </summary>
internal sealed class HostOnlyServer : IAsyncDisposable
{
    public const string Body = "host-only secret";
    private readonly TcpListener _listener = new(IPAddress.Any, 0);
    private readonly CancellationTokenSource _stop = new();
    private Task _serving = Task.CompletedTask;

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static HostOnlyServer Start()
    {
        var server = new HostOnlyServer();
        server._listener.Start();
        server._serving = server.ServeAsync();
        return server;
    }

    /// <summary>
    /// The host's own IPv4 addresses other than loopback, leaving out the links other tests make and remove while this
    /// one runs (outside worlds "sow", corporate networks "sco").
    /// </summary>
    public static IEnumerable<IPAddress> HostAddresses() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback
                && !i.Name.StartsWith("sow", StringComparison.Ordinal) && !i.Name.StartsWith("sco", StringComparison.Ordinal))
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork)
            .Distinct();

    private async Task ServeAsync()
    {
        var answer = Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {Body.Length}\r\nConnection: close\r\n\r\n{Body}");
        while (!_stop.IsCancellationRequested)
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var stream = client.GetStream();
            var buffer = new byte[4096];
            var request = new StringBuilder();
            while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var count = await stream.ReadAsync(buffer, _stop.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(30), _stop.Token);
                if (count == 0)
                {
                    break;
                }

                request.Append(Encoding.ASCII.GetString(buffer, 0, count));
            }

            await stream.WriteAsync(answer, _stop.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _serving;
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }
}
