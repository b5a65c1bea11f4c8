using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Gateway.Connect;

/// <summary>
/// The relays this gateway instance waits for: a browser's console whose VM runs on a separate host. The
/// instance asks compute to have the host dial back here (hosts take no inbound connections), and the host's
/// WebSocket is handed to the waiting console. In memory on purpose: the browser's WebSocket is held by this
/// instance, so the host must reach this one, at the URL the instance gave.
/// </summary>
public sealed class ConsoleRelays
{
    public const string SecretHeader = "X-Stratus-Relay-Secret";
    private readonly ConcurrentDictionary<Guid, PendingRelay> pending = new();

    /// <summary>A new relay with its secret, waiting for its host until <see cref="Close"/>.</summary>
    public (PendingRelay Relay, string Secret) Open()
    {
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var relay = new PendingRelay(Guid.CreateVersion7(), SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
        pending[relay.Id] = relay;
        return (relay, secret);
    }

    /// <summary>The relay the host names, once, if its secret matches.</summary>
    public PendingRelay? Claim(Guid id, string? secret)
    {
        if (!pending.TryGetValue(id, out var relay) || secret is null
            || !CryptographicOperations.FixedTimeEquals(relay.SecretHash, SHA256.HashData(Encoding.UTF8.GetBytes(secret))))
        {
            return null;
        }

        return relay.TryClaim() ? relay : null;
    }

    /// <summary>Ends the relay: a host still to come is refused, a host connected is let go.</summary>
    public void Close(PendingRelay relay)
    {
        ArgumentNullException.ThrowIfNull(relay);
        pending.TryRemove(relay.Id, out _);
        relay.Host.TrySetCanceled();
        relay.Finished.TrySetResult();
    }

    internal static IEndpointRouteBuilder MapConsoleRelays(IEndpointRouteBuilder endpoints)
    {
        // Anonymous: the host authenticates with the relay's secret, which only compute and this instance know.
        endpoints.MapGet("/api/v1/gateway/relays/{id:guid}", RelayAsync).WithTags("Gateway").WithName("AcceptConsoleRelay")
            .WithSummary($"WebSocket for a host agent: carries a VM's display to the console waiting for it; secret in {SecretHeader}").AllowAnonymous();
        return endpoints;
    }

    private static async Task RelayAsync(Guid id, HttpContext http, ConsoleRelays relays)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await ConnectApi.Refuse(http, StatusCodes.Status400BadRequest, "not-a-websocket", "This is a WebSocket endpoint for host agents' console relays.");
            return;
        }

        if (relays.Claim(id, http.Request.Headers[SecretHeader].FirstOrDefault()) is not { } relay)
        {
            await ConnectApi.Refuse(http, StatusCodes.Status403Forbidden, "console-relay-unknown",
                $"There is no console waiting for relay {id} with this secret on this gateway instance (it ended, or was never asked for).");
            return;
        }

        using var host = await http.WebSockets.AcceptWebSocketAsync();
        if (!relay.Host.TrySetResult(host))
        {
            return;
        }

        // The console bridges this socket; the request lives until it is done with it, then tells the host so.
        await relay.Finished.Task.WaitAsync(http.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        if (host.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await host.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "console closed", closing.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}

public sealed class PendingRelay(Guid id, byte[] secretHash)
{
    private int claimed;

    public Guid Id { get; } = id;

    internal byte[] SecretHash { get; } = secretHash;

    /// <summary>The host's WebSocket, once it connected.</summary>
    public TaskCompletionSource<WebSocket> Host { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Set when the console is done with the host's WebSocket.</summary>
    public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal bool TryClaim() => Interlocked.Exchange(ref claimed, 1) == 0;
}
