using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;

namespace Stratus.IntegrationTests.Support;

/// <summary>
/// The RFB conversation noVNC has with a Cloud PC's display over the gateway's WebSocket, reduced to what a test
/// needs: the handshake (no authentication: QEMU's VNC server on its unix socket offers None), the screen's size, and
/// one whole frame in raw encoding. Every read has a deadline.
/// </summary>
public sealed class VncDisplay : IAsyncDisposable
{
    private static readonly TimeSpan ReadLimit = TimeSpan.FromSeconds(60);
    private readonly ClientWebSocket _socket;
    private readonly Queue<byte> _pending = new();

    private VncDisplay(ClientWebSocket socket) => _socket = socket;

    public int Width { get; private set; }

    public int Height { get; private set; }

    /// <summary>Opens the console of a ticket (its WebSocket, offering its subprotocols) and runs the RFB 3.8 handshake.</summary>
    public static async Task<VncDisplay> OpenAsync(Gateway.ConsoleTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        var socket = await ticket.ConnectAsync();
        var display = new VncDisplay(socket);
        try
        {
            Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(await display.ReadAsync(12)));
            await display.SendAsync(Encoding.ASCII.GetBytes("RFB 003.008\n"));
            var types = await display.ReadAsync((await display.ReadAsync(1))[0]);
            Assert.Contains((byte)1, types);
            await display.SendAsync([1]);
            Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(await display.ReadAsync(4)));
            await display.SendAsync([1]); // ClientInit: shared.
            var serverInit = await display.ReadAsync(24);
            display.Width = BinaryPrimitives.ReadUInt16BigEndian(serverInit);
            display.Height = BinaryPrimitives.ReadUInt16BigEndian(serverInit.AsSpan(2));
            await display.ReadAsync((int)BinaryPrimitives.ReadUInt32BigEndian(serverInit.AsSpan(20)));

            // 32 bits per pixel, true colour, so that a pixel is 4 bytes whatever the server preferred.
            await display.SendAsync([0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
            await display.SendAsync([2, 0, 0, 1, 0, 0, 0, 0]); // SetEncodings: raw only.
            return display;
        }
        catch
        {
            await display.DisposeAsync();
            throw;
        }
    }

    /// <summary>The whole screen now, as 32-bit pixels in rows (0x00RRGGBB).</summary>
    public async Task<uint[]> ReadFrameAsync()
    {
        var frame = new uint[Width * Height];
        await SendAsync([3, 0, 0, 0, 0, 0, .. BigEndian16(Width), .. BigEndian16(Height)]);
        var covered = 0;
        while (covered < frame.Length)
        {
            var header = await ReadAsync(4);
            Assert.Equal(0, header[0]); // FramebufferUpdate; nothing else was asked for.
            for (var rectangles = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2)); rectangles > 0; rectangles--)
            {
                var rectangle = await ReadAsync(12);
                var (x, y) = (BinaryPrimitives.ReadUInt16BigEndian(rectangle), BinaryPrimitives.ReadUInt16BigEndian(rectangle.AsSpan(2)));
                var (w, h) = (BinaryPrimitives.ReadUInt16BigEndian(rectangle.AsSpan(4)), BinaryPrimitives.ReadUInt16BigEndian(rectangle.AsSpan(6)));
                Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(rectangle.AsSpan(8)));
                var pixels = await ReadAsync(w * h * 4);
                for (var row = 0; row < h; row++)
                {
                    for (var column = 0; column < w; column++)
                    {
                        frame[((y + row) * Width) + x + column] = BinaryPrimitives.ReadUInt32LittleEndian(pixels.AsSpan(((row * w) + column) * 4)) & 0xFFFFFF;
                    }
                }

                covered += w * h;
            }
        }

        return frame;
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", deadline.Token);
        }

        _socket.Dispose();
    }

    private static byte[] BigEndian16(int value) => [(byte)(value >> 8), (byte)value];

    private async Task SendAsync(byte[] bytes)
    {
        using var deadline = new CancellationTokenSource(ReadLimit);
        await _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, deadline.Token);
    }

    private async Task<byte[]> ReadAsync(int count)
    {
        using var deadline = new CancellationTokenSource(ReadLimit);
        var buffer = new byte[64 * 1024];
        while (_pending.Count < count)
        {
            var received = await _socket.ReceiveAsync(buffer, deadline.Token);
            Assert.True(received.MessageType != WebSocketMessageType.Close, $"the gateway closed the display: {_socket.CloseStatusDescription}");
            foreach (var b in buffer.AsSpan(0, received.Count))
            {
                _pending.Enqueue(b);
            }
        }

        var bytes = new byte[count];
        for (var i = 0; i < count; i++)
        {
            bytes[i] = _pending.Dequeue();
        }

        return bytes;
    }
}
