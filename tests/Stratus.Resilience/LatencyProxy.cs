using System.Net;
using System.Net.Sockets;

namespace Stratus.Resilience;

/// <summary>
/// A TCP proxy in front of a PostgreSQL node that can add latency: the "slow database" fault. Each chunk is held
/// for the delay before it is passed on, in both directions, so a query's round trip grows by twice the delay.
/// </summary>
public sealed class LatencyProxy : IAsyncDisposable
{
    private readonly TcpListener listener;
    private readonly IPEndPoint target;
    private readonly CancellationTokenSource stopping = new();
    private readonly List<TcpClient> connections = [];
    private readonly Task accepting;
    private long delayTicks;

    public LatencyProxy(IPEndPoint listen, IPEndPoint target)
    {
        this.target = target;
        listener = new TcpListener(listen);
        listener.Start();
        accepting = AcceptAsync();
    }

    public TimeSpan Delay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref delayTicks));
        set => Interlocked.Exchange(ref delayTicks, value.Ticks);
    }

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var server = new TcpClient();
        lock (connections)
        {
            connections.Add(client);
            connections.Add(server);
        }

        try
        {
            using (client)
            {
                await server.ConnectAsync(target, stopping.Token);
                using var both = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
                var up = PumpAsync(client.GetStream(), server.GetStream(), both.Token);
                var down = PumpAsync(server.GetStream(), client.GetStream(), both.Token);
                await Task.WhenAny(up, down);
                await both.CancelAsync();
            }
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The node is down or cut off, or one side closed: the client sees its connection end, as without a proxy.
        }
        finally
        {
            lock (connections)
            {
                connections.Remove(client);
                connections.Remove(server);
            }
        }
    }

    private async Task PumpAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    return;
                }

                if (Delay > TimeSpan.Zero)
                {
                    await Task.Delay(Delay, cancellationToken);
                }

                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // One side went away.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        lock (connections)
        {
            foreach (var connection in connections)
            {
                connection.Dispose();
            }
        }

        await accepting;
        stopping.Dispose();
    }
}
