using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Stratus.HostAgent.Networks;

/// <summary>
/// What the checks ask of a tenant's network, from inside the connection's namespace (as a guest would): an ICMP echo,
/// a DNS query to one server, a TCP connection. Written here rather than run as ping, dig or nc, which the host may not
/// have: each is a few packets.
/// </summary>
internal static class NamespaceProbes
{
    /// <summary>True when <paramref name="address"/> answers an ICMP echo within the timeout (one request a second).</summary>
    public static async Task<bool> PingAsync(string networkNamespace, IPAddress address, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var socket = NamespaceSockets.Create(networkNamespace, AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Icmp);
        var identifier = (ushort)Random.Shared.Next(1, ushort.MaxValue);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var buffer = new byte[1500];
        for (ushort sequence = 1; !deadline.IsCancellationRequested; sequence++)
        {
            await socket.SendToAsync(EchoRequest(identifier, sequence), SocketFlags.None, new IPEndPoint(address, 0), cancellationToken);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
            attempt.CancelAfter(TimeSpan.FromSeconds(1));
            try
            {
                while (true)
                {
                    var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), attempt.Token);
                    // A raw IPv4 socket hands over the IP header too: the ICMP message starts after it.
                    var offset = (buffer[0] & 0x0f) * 4;
                    if (((IPEndPoint)received.RemoteEndPoint).Address.Equals(address) && received.ReceivedBytes >= offset + 8
                        && buffer[offset] == 0 && BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(offset + 4)) == identifier)
                    {
                        return true;
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // No answer to this one: another, until the deadline.
            }
        }

        return false;
    }

    /// <summary>Asks the server for the name's IPv4 addresses: null when it does not answer in time, else its answer.</summary>
    public static async Task<DnsAnswer?> ResolveAsync(string networkNamespace, IPAddress server, string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var socket = NamespaceSockets.Create(networkNamespace, server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(new IPEndPoint(server, 53), cancellationToken);
        var id = (ushort)Random.Shared.Next(ushort.MaxValue);
        var query = Query(id, name);
        var buffer = new byte[4096];
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (!deadline.IsCancellationRequested)
        {
            await socket.SendAsync(query, SocketFlags.None, cancellationToken);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
            attempt.CancelAfter(TimeSpan.FromSeconds(1));
            try
            {
                while (true)
                {
                    var count = await socket.ReceiveAsync(buffer, SocketFlags.None, attempt.Token);
                    if (count >= 12 && BinaryPrimitives.ReadUInt16BigEndian(buffer) == id)
                    {
                        return Parse(buffer.AsSpan(0, count));
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
            catch (SocketException)
            {
                // ICMP port unreachable: nothing listens there. Counted as no answer.
                return null;
            }
        }

        return null;
    }

    /// <summary>Null when a TCP connection to the address opens within the timeout, else why not.</summary>
    public static async Task<string?> ConnectAsync(string networkNamespace, IPAddress address, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var socket = NamespaceSockets.Create(networkNamespace, address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, port), deadline.Token);
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no answer within {timeout.TotalSeconds:0} s";
        }
        catch (SocketException exception)
        {
            return exception.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : exception.Message;
        }
    }

    private static byte[] EchoRequest(ushort identifier, ushort sequence)
    {
        var packet = new byte[16];
        packet[0] = 8;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), identifier);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), sequence);
        Encoding.ASCII.GetBytes("stratus!", packet.AsSpan(8));
        uint sum = 0;
        for (var i = 0; i < packet.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(i));
        }

        sum = (sum & 0xffff) + (sum >> 16);
        sum += sum >> 16;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)~sum);
        return packet;
    }

    private static byte[] Query(ushort id, string name)
    {
        var packet = new List<byte>();
        var header = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, id);
        header[2] = 0x01; // recursion desired
        header[5] = 1;    // one question
        packet.AddRange(header);
        foreach (var label in name.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            var bytes = Encoding.ASCII.GetBytes(label);
            packet.Add((byte)bytes.Length);
            packet.AddRange(bytes);
        }

        packet.AddRange([0, 0, 1, 0, 1]); // root, type A, class IN
        return [.. packet];
    }

    private static DnsAnswer Parse(ReadOnlySpan<byte> message)
    {
        var rcode = message[3] & 0x0f;
        var questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        var answers = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        var offset = 12;
        for (var i = 0; i < questions; i++)
        {
            offset = SkipName(message, offset) + 4;
        }

        var addresses = new List<IPAddress>();
        for (var i = 0; i < answers && offset < message.Length; i++)
        {
            offset = SkipName(message, offset);
            var type = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 8)..]);
            offset += 10;
            if (type == 1 && length == 4)
            {
                addresses.Add(new IPAddress(message.Slice(offset, 4)));
            }

            offset += length;
        }

        return new DnsAnswer(rcode, addresses);
    }

    private static int SkipName(ReadOnlySpan<byte> message, int offset)
    {
        while (message[offset] != 0)
        {
            if ((message[offset] & 0xc0) == 0xc0)
            {
                return offset + 2; // a pointer ends the name
            }

            offset += message[offset] + 1;
        }

        return offset + 1;
    }
}

/// <summary>A DNS server's answer: its response code (0 = no error, 3 = no such name) and the IPv4 addresses.</summary>
internal sealed record DnsAnswer(int ResponseCode, IReadOnlyList<IPAddress> Addresses);
