using Microsoft.AspNetCore.Http;

namespace Stratus.Gateway.Connect;

/// <summary>
/// How a console ticket travels: as a WebSocket subprotocol (the Sec-WebSocket-Protocol header), the one header a
/// browser lets a page set on a WebSocket. A URL is written by request logs, proxies and browser history; a header is
/// not (docs/adr/0012-console-ticket-in-subprotocol.md). The client offers <see cref="Console"/> and
/// <see cref="TicketPrefix"/>TICKET; the gateway answers with <see cref="Console"/> only, so the ticket is never echoed.
/// </summary>
public static class ConsoleTicketProtocol
{
    /// <summary>The subprotocol the gateway accepts: raw VNC (RFB) in binary messages.</summary>
    public const string Console = "stratus.console.v1";

    /// <summary>The subprotocol that carries the ticket; its secret is base64url, which a subprotocol token allows.</summary>
    public const string TicketPrefix = "stratus.ticket.";

    /// <summary>The subprotocols a client offers to open the console with <paramref name="ticket"/>.</summary>
    public static IReadOnlyList<string> Offer(string ticket) => [Console, TicketPrefix + ticket];

    /// <summary>The ticket the client offered, or null when it offered none.</summary>
    public static string? TicketOf(HttpContext http) =>
        http.WebSockets.WebSocketRequestedProtocols.FirstOrDefault(p => p.StartsWith(TicketPrefix, StringComparison.Ordinal)) is { } offered
            ? offered[TicketPrefix.Length..]
            : null;

    /// <summary>The subprotocol to answer with: the console's if offered (a browser fails a handshake that answers none it offered).</summary>
    public static string? Accepted(HttpContext http) =>
        http.WebSockets.WebSocketRequestedProtocols.Contains(Console) ? Console : null;
}
