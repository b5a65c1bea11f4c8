using System.Net.WebSockets;
using System.Text.Json;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Gateway;

/// <summary>
/// What Connect answers, as a client opens the console with it: the WebSocket URL (no ticket in it) and the
/// subprotocols to offer, one of which carries the ticket.
/// </summary>
public sealed record ConsoleTicket(string Token, Uri Url, IReadOnlyList<string> Protocols)
{
    public const string ConsoleProtocol = "stratus.console.v1";

    public static ConsoleTicket From(StratusProcess stratus, JsonElement connect)
    {
        ArgumentNullException.ThrowIfNull(stratus);
        return new ConsoleTicket(
            connect.GetProperty("token").GetString()!,
            new Uri(stratus.BaseAddress.ToString().Replace("http://", "ws://", StringComparison.Ordinal).TrimEnd('/') + connect.GetProperty("webSocketPath").GetString()),
            [.. connect.GetProperty("webSocketProtocols").EnumerateArray().Select(p => p.GetString()!)]);
    }

    /// <summary>The same console with another ticket: a forged or guessed one.</summary>
    public ConsoleTicket WithToken(string token) => this with { Token = token, Protocols = [ConsoleProtocol, "stratus.ticket." + token] };

    /// <summary>A WebSocket that offers the ticket's subprotocols, as noVNC does; not yet connected.</summary>
    public ClientWebSocket Socket()
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        foreach (var protocol in Protocols)
        {
            socket.Options.AddSubProtocol(protocol);
        }

        return socket;
    }

    /// <summary>Opens the console; throws <see cref="WebSocketException"/> when the gateway refuses.</summary>
    public async Task<ClientWebSocket> ConnectAsync()
    {
        var socket = Socket();
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await socket.ConnectAsync(Url, deadline.Token);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
