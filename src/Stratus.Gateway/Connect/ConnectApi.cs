using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Stratus.Gateway.History;
using Stratus.Gateway.Persistence;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Gateway.Connect;

/// <param name="WebSocketProtocols">The subprotocols to offer when opening <paramref name="WebSocketPath"/>: the ticket travels in
/// one of them, never in the URL (<see cref="ConsoleTicketProtocol"/>).</param>
public sealed record ConnectView(string Token, DateTimeOffset ExpiresDateTime, string WebSocketPath, IReadOnlyList<string> WebSocketProtocols, Guid SessionId);

internal sealed record CloudPcInfo(Guid Id, string ManagedDeviceName, string Status, string PowerState, Guid VmId, Guid UserId, string UserPrincipalName);

/// <summary>
/// The connectivity layer: a user asks to connect to their own Cloud PC (or a console operator to one of their
/// tenant's) and gets a ticket that opens, once and within a short lifetime, a WebSocket carrying the VM's display
/// (VNC, which noVNC speaks in the browser).
/// </summary>
public static partial class ConnectApi
{
    private const string ConsolePath = "/api/v1/gateway/console";

    public static IEndpointRouteBuilder MapConnectApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/v1/me/cloudPCs/{id:guid}/connect", ConnectMineAsync).WithTags("Gateway").WithName("ConnectToMyCloudPc")
            .WithSummary("A single-use ticket (at most 60 s) to open your Cloud PC's console").RequireAuthorization(StratusPolicies.TenantMember);

        // Any tenant member may ask; the handler checks the role, so that the refusal can name the role to grant.
        endpoints.MapPost("/api/v1/cloudPCs/{id:guid}/connect", ConnectAsOperatorAsync).WithTags("Gateway").WithName("ConnectToCloudPc")
            .WithSummary($"A single-use ticket to open the console of any Cloud PC of your tenant; needs the role {StratusRoles.CloudPcConsoleOperator}, audited")
            .RequireAuthorization(StratusPolicies.TenantMember);

        // Anonymous on purpose: the browser cannot send a bearer header on a WebSocket, the single-use ticket is the credential.
        endpoints.MapGet(ConsolePath, ConsoleAsync).WithTags("Gateway").WithName("OpenConsole")
            .WithSummary($"WebSocket with subprotocols {ConsoleTicketProtocol.Console} and {ConsoleTicketProtocol.TicketPrefix}TICKET; carries the VM's VNC").AllowAnonymous();
        return endpoints;
    }

    private static async Task<Results<Ok<ConnectView>, ProblemHttpResult>> ConnectMineAsync(
        Guid id, HttpContext http, GatewayDbContext db, ServiceCalls calls, GatewayOptions options, TimeProvider clock, CancellationToken cancellationToken)
    {
        // Only the Cloud PC's own user: provisioning answers /me for the user of the token exchanged from theirs.
        var (cloudPcsRead, refused) = await ExchangeAsync(http, calls, StratusScopes.CloudPcsRead, cancellationToken);
        if (cloudPcsRead is null)
        {
            return refused!;
        }

        using var provisioning = calls.AsAccount("provisioning", cloudPcsRead);
        var (pc, problem) = await LookUpAsync(http, provisioning, $"/api/v1/me/cloudPCs/{id}", id, cancellationToken);
        return pc is null ? problem! : await IssueAsync(pc, asOperator: false, http, db, calls, options, clock, cancellationToken);
    }

    private static async Task<Results<Ok<ConnectView>, ProblemHttpResult>> ConnectAsOperatorAsync(
        Guid id, HttpContext http, GatewayDbContext db, ServiceCalls calls, GatewayOptions options, TimeProvider clock, CancellationToken cancellationToken)
    {
        // Administering Cloud PCs is not seeing their users' screens: that takes a role of its own, granted on purpose.
        if (!http.User.IsInRole(StratusRoles.CloudPcConsoleOperator))
        {
            return Problems.Forbidden(
                $"Connecting to another user's Cloud PC needs the role {StratusRoles.CloudPcConsoleOperator}. A tenant administrator can grant it " +
                $"(POST /api/v1/roleAssignments with roleDefinitionId {StratusRoles.CloudPcConsoleOperator}); it applies from your next sign-in.");
        }

        // The tenant is the operator's token's: a Cloud PC of another tenant is not found, the same as one that does not exist.
        var (cloudPcsRead, refused) = await ExchangeAsync(http, calls, StratusScopes.CloudPcsRead, cancellationToken);
        if (cloudPcsRead is null)
        {
            return refused!;
        }

        using var provisioning = calls.AsAccount("provisioning", cloudPcsRead);
        var (pc, problem) = await LookUpAsync(http, provisioning, $"/api/v1/cloudPCs/{id}", id, cancellationToken);
        return pc is null ? problem! : await IssueAsync(pc, asOperator: true, http, db, calls, options, clock, cancellationToken);
    }

    /// <summary>
    /// The gateway's token for <paramref name="scope"/> acting for the caller (ADR 0016): identity exchanges the caller's
    /// own token (the bearer they sent, or the one their portal session carries), so the tenant and user are theirs.
    /// </summary>
    internal static async Task<(string? Token, ProblemHttpResult? Problem)> ExchangeAsync(HttpContext http, ServiceCalls calls, string scope, CancellationToken cancellationToken)
    {
        var header = http.Request.Headers.Authorization.ToString();
        var userToken = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim()
            : http.User.FindFirst(StratusClaims.AccessToken)?.Value;
        if (string.IsNullOrEmpty(userToken))
        {
            return (null, Problems.Unauthorized("Your sign-in carries no token the gateway can act with: sign in again."));
        }

        try
        {
            return (await calls.ExchangeAsync("gateway", userToken, scope, cancellationToken), null);
        }
        catch (HttpRequestException e) when (e.StatusCode == HttpStatusCode.BadRequest)
        {
            // invalid_grant: the user's token expired or was revoked since this request was authenticated.
            return (null, Problems.Unauthorized("Your sign-in has expired or was revoked: sign in again."));
        }
        catch (HttpRequestException)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable", type: Problems.TypePrefix + "dependency-unavailable",
                detail: "Cannot reach the identity service right now; try again in a moment."));
        }
    }

    private static async Task<(CloudPcInfo? Pc, ProblemHttpResult? Problem)> LookUpAsync(
        HttpContext http, HttpClient provisioning, string path, Guid id, CancellationToken cancellationToken)
    {
        using var response = await provisioning.GetAsync(path, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return (null, Problems.NotFound("Cloud PC", id));
        }

        if (!response.IsSuccessStatusCode)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable", type: Problems.TypePrefix + "dependency-unavailable",
                detail: "Cannot look up the Cloud PC right now; try again in a moment."));
        }

        var pc = (await response.Content.ReadFromJsonAsync<CloudPcInfo>(cancellationToken))!;
        if (pc.Status is not ("provisioned" or "inGracePeriod") || pc.PowerState != "running")
        {
            var detail = $"{pc.ManagedDeviceName} is {pc.Status} and {pc.PowerState}; you can connect once it is provisioned and running{(pc.PowerState == "poweredOff" ? " (start it first)" : "")}.";
            await ConnectionRefusals.RecordAsync(http.RequestServices, http.User.RequiredTenantId(), pc.Id, http.User.AccountId(), http.User.UserName(),
                "cloud-pc-not-running", detail, cancellationToken);
            return (null, Problems.Conflict("cloud-pc-not-running", detail));
        }

        return (pc, null);
    }

    private static async Task<Results<Ok<ConnectView>, ProblemHttpResult>> IssueAsync(
        CloudPcInfo pc, bool asOperator, HttpContext http, GatewayDbContext db, ServiceCalls calls, GatewayOptions options, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await http.RequestServices.GetRequiredService<OpenConsoles>().IsRevokedNowAsync(http.User, cancellationToken))
        {
            return Problems.Unauthorized("Your sign-in was revoked (your account was disabled or changed): sign in again.");
        }

        // The relay is asked for when the ticket opens the console, without the user's token: a token for that, and
        // nothing else, is exchanged now and kept sealed with the ticket's secret until then (ADR 0016).
        var (relayToken, refused) = await ExchangeAsync(http, calls, StratusScopes.ConsolesRelay, cancellationToken);
        if (relayToken is null)
        {
            return refused!;
        }

        var now = clock.GetUtcNow();
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var token = new ConnectToken
        {
            Id = Guid.CreateVersion7(now), TokenHash = Hash(secret), TenantId = http.User.RequiredTenantId(), UserId = http.User.AccountId(), UserName = http.User.UserName(),
            CloudPcId = pc.Id, CloudPcName = pc.ManagedDeviceName, CloudPcUserId = pc.UserId, CloudPcUserPrincipalName = pc.UserPrincipalName, AsOperator = asOperator, VmId = pc.VmId,
            SessionId = Guid.CreateVersion7(now), CreatedAt = now, ExpiresAt = now + options.TicketLifetime, SealedRelayToken = RelayTokenSeal.Seal(relayToken, secret),
        };
        db.ConnectTokens.Add(token);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new ConnectView(secret, token.ExpiresAt, ConsolePath, ConsoleTicketProtocol.Offer(secret), token.SessionId));
    }

    private static async Task ConsoleAsync(
        HttpContext http, GatewayDbContext db, IServiceProvider services, GatewayOptions options, TimeProvider clock, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("Stratus.Gateway.Console");
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Refuse(http, StatusCodes.Status400BadRequest, "not-a-websocket", "This is a WebSocket endpoint: open it from the console page.");
            return;
        }

        var now = clock.GetUtcNow();
        var presented = ConsoleTicketProtocol.TicketOf(http) ?? "";
        var hash = Hash(presented);

        // Consumed in one statement: of two requests with one ticket, exactly one gets it.
        var taken = await db.ConnectTokens.Where(t => t.TokenHash == hash && t.UsedAt == null && t.ExpiresAt > now)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.UsedAt, now), http.RequestAborted);
        if (taken == 0)
        {
            // Say which, so that the person knows a new Connect is all it takes; the ticket's secret is the caller's already.
            var known = await db.ConnectTokens.AsNoTracking().Where(t => t.TokenHash == hash).FirstOrDefaultAsync(http.RequestAborted);
            var (code, detail) = known switch
            {
                null => ("console-ticket-unknown", "This connection ticket is not one this gateway issued; click Connect again."),
                { UsedAt: not null } => ("console-ticket-used", "This connection ticket was already used (a ticket opens one connection); click Connect again."),
                _ => ("console-ticket-expired",
                    $"This connection ticket expired: it must open the console within {options.TicketLifetime.TotalSeconds:0} s of Connect. Click Connect again."),
            };
            if (known is not null)
            {
                // An unknown ticket names no Cloud PC, so it belongs to no history.
                await ConnectionRefusals.RecordAsync(services, known, code, detail, http.RequestAborted);
            }

            await Refuse(http, StatusCodes.Status403Forbidden, code, detail);
            return;
        }

        var ticket = await db.ConnectTokens.AsNoTracking().FirstAsync(t => t.TokenHash == hash, http.RequestAborted);
        var relayToken = ticket.SealedRelayToken is { } sealedToken ? RelayTokenSeal.Open(sealedToken, presented) : null;
        await db.ConnectTokens.Where(t => t.Id == ticket.Id).ExecuteUpdateAsync(t => t.SetProperty(x => x.SealedRelayToken, (string?)null), http.RequestAborted);
        var relays = services.GetRequiredService<ConsoleRelays>();
        PendingRelay? relay = null;
        Stream display;
        try
        {
            if (services.GetService<IVmConsoles>()?.FindVncSocket(ticket.VmId) is { } socketPath)
            {
                // A host of this process (all-in-one): its VNC socket is right here.
                var vnc = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await vnc.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), http.RequestAborted);
                }
                catch (SocketException e)
                {
                    vnc.Dispose();
                    LogDisplayUnreachable(logger, ticket.CloudPcId, e.Message);
                    const string Unanswered = "The Cloud PC's display does not answer; it may be restarting. Try again in a moment.";
                    await ConnectionRefusals.RecordAsync(services, ticket, "display-unreachable", Unanswered, http.RequestAborted);
                    await Refuse(http, StatusCodes.Status409Conflict, "display-unreachable", Unanswered);
                    return;
                }

                display = new NetworkStream(vnc, ownsSocket: true);
            }
            else
            {
                // A separate host: it dials back to this instance with the display.
                (relay, var secret) = relays.Open();
                var (host, refusal) = await RelayFromHostAsync(ticket, relayToken, relay, secret, services, options, logger, http.RequestAborted);
                if (host is null)
                {
                    await ConnectionRefusals.RecordAsync(services, ticket, "display-unreachable", refusal, http.RequestAborted);
                    await Refuse(http, StatusCodes.Status409Conflict, "display-unreachable", refusal!);
                    return;
                }

                display = WebSocketStream.Create(host, WebSocketMessageType.Binary, ownsWebSocket: false);
            }
        }
        catch
        {
            if (relay is not null)
            {
                relays.Close(relay);
            }

            throw;
        }

        try
        {
            await using (display)
            {
                await RunSessionAsync(http, db, clock, logger, ticket, now, display);
            }
        }
        finally
        {
            if (relay is not null)
            {
                relays.Close(relay);
            }
        }
    }

    private static async Task RunSessionAsync(HttpContext http, GatewayDbContext db, TimeProvider clock, ILogger logger, ConnectToken ticket, DateTimeOffset now, Stream display)
    {
        using var browser = await http.WebSockets.AcceptWebSocketAsync(ConsoleTicketProtocol.Accepted(http));
        var session = new ConsoleSession
        {
            Id = ticket.SessionId == Guid.Empty ? Guid.CreateVersion7(now) : ticket.SessionId, TenantId = ticket.TenantId, UserId = ticket.UserId, UserName = ticket.UserName,
            CloudPcId = ticket.CloudPcId, CloudPcUserPrincipalName = ticket.CloudPcUserPrincipalName, StartedAt = now,
            GatewayInstance = http.RequestServices.GetRequiredService<GatewayOptions>().InstanceName, GatewayZone = http.RequestServices.GetRequiredService<GatewayOptions>().Zone,
        };
        db.Sessions.Add(session);
        var actor = new AuditActor(ticket.UserId, ticket.UserName, http.Connection.RemoteIpAddress?.ToString() ?? "");
        var cloudPc = new AuditResource(ticket.CloudPcId.ToString(), "cloudPc", ticket.CloudPcName ?? ticket.CloudPcId.ToString());
        if (ticket.AsOperator)
        {
            // Someone else's screen: the record names who looked, at which Cloud PC, whose it is, and by which role.
            db.Audit(clock, ticket.TenantId, actor, "cloudPc", "ConnectAsOperator",
                $"{ticket.UserName} connected to the console of {ticket.CloudPcName}, the Cloud PC of {ticket.CloudPcUserPrincipalName}, as {StratusRoles.CloudPcConsoleOperator}",
                true, cloudPc, new AuditResource(ticket.CloudPcUserId.ToString(), "user", ticket.CloudPcUserPrincipalName ?? ""));
        }
        else
        {
            db.Audit(clock, ticket.TenantId, actor, "cloudPc", "Connect", $"{ticket.UserName} connected to the console", true, cloudPc);
        }

        await db.SaveChangesAsync(http.RequestAborted);
        LogSessionStarted(logger, session.Id, ticket.UserName, ticket.CloudPcId);

        using var tracked = http.RequestServices.GetRequiredService<OpenConsoles>().Track(ticket);
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, tracked.Revoked);
        var (reason, endedBy) = await BridgeAsync(browser, display, session, ending.Token);
        (reason, endedBy) = tracked.Revoked.IsCancellationRequested ? (OpenConsoles.RevokedReason, SessionEnd.Revoked) : (reason, endedBy);
        session.EndedAt = clock.GetUtcNow();
        session.EndReason = reason;
        session.EndedBy = endedBy;
        await db.SaveChangesAsync(CancellationToken.None);
        LogSessionEnded(logger, session.Id, reason, session.BytesToClient, session.BytesFromClient);
    }

    /// <summary>
    /// Asks compute to have the VM's host dial this instance's relay endpoint, and waits for it. Returns the host's
    /// WebSocket, or why there is none in words for the person at the console.
    /// </summary>
    private static async Task<(WebSocket? Host, string? Refusal)> RelayFromHostAsync(
        ConnectToken ticket, string? relayToken, PendingRelay relay, string secret, IServiceProvider services, GatewayOptions options, ILogger logger,
        CancellationToken cancellationToken)
    {
        if (relayToken is null)
        {
            return (null, "This connection ticket carries no permission to ask for the display (it was issued before an upgrade); click Connect again.");
        }

        var own = options.RelayUrl ?? ServiceCalls.OwnAddress(services.GetRequiredService<IServer>());
        if (own is null)
        {
            return (null, "This gateway does not know its own address for the Cloud PC's host to reach; its administrator sets Stratus:Gateway:RelayUrl.");
        }

        var url = new UriBuilder(new Uri(own, $"api/v1/gateway/relays/{relay.Id}")) { Scheme = own.Scheme == Uri.UriSchemeHttps ? "wss" : "ws" }.Uri;
        try
        {
            // As the ticket's user, delegated: compute serves it only for a VM of that user's tenant.
            using var compute = services.GetRequiredService<ServiceCalls>().AsAccount("compute", relayToken);
            using var asked = await compute.PostAsJsonAsync($"/api/v1/vms/{ticket.VmId}/consoleRelays", new { id = relay.Id, url = url.ToString(), secret }, cancellationToken);
            if (!asked.IsSuccessStatusCode)
            {
                LogRelayRefused(logger, ticket.CloudPcId, (int)asked.StatusCode, await asked.Content.ReadAsStringAsync(cancellationToken));
                return (null, asked.StatusCode == HttpStatusCode.NotFound
                    ? "The Cloud PC's VM is not on any host right now (it may be moving or being deleted). Try again in a moment."
                    : "The Cloud PC's host cannot be asked for its display right now. Try again in a moment.");
            }
        }
        catch (HttpRequestException e)
        {
            LogRelayRefused(logger, ticket.CloudPcId, 0, e.Message);
            return (null, "The Cloud PC's host cannot be asked for its display right now. Try again in a moment.");
        }

        try
        {
            var host = await relay.Host.Task.WaitAsync(options.RelayWait, cancellationToken);
            LogRelayConnected(logger, ticket.CloudPcId, relay.Id);
            return (host, null);
        }
        catch (TimeoutException)
        {
            LogRelayTimedOut(logger, ticket.CloudPcId, relay.Id, url, options.RelayWait.TotalSeconds);
            return (null, $"The Cloud PC's host did not bring its display within {options.RelayWait.TotalSeconds:0} s (it may be busy or unable to reach this gateway). Try again in a moment.");
        }
    }

    /// <summary>Copies bytes both ways until either side closes; returns why it ended.</summary>
    private static async Task<(string Reason, SessionEnd EndedBy)> BridgeAsync(WebSocket browser, Stream display, ConsoleSession session, CancellationToken cancellationToken)
    {
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var toBrowser = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var read = await display.ReadAsync(buffer, done.Token);
                if (read == 0)
                {
                    return ("the Cloud PC's display closed (it may be restarting)", SessionEnd.DisplayClosed);
                }

                await browser.SendAsync(buffer.AsMemory(0, read), WebSocketMessageType.Binary, true, done.Token);
                Interlocked.Add(ref session.BytesToClientField, read);
            }
        }, done.Token);
        var fromBrowser = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var received = await browser.ReceiveAsync(buffer.AsMemory(), done.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return ("the browser closed the connection", SessionEnd.ClosedByUser);
                }

                await display.WriteAsync(buffer.AsMemory(0, received.Count), done.Token);
                Interlocked.Add(ref session.BytesFromClientField, received.Count);
            }
        }, done.Token);

        var first = await Task.WhenAny(toBrowser, fromBrowser);
        await done.CancelAsync();
        var ended = first.IsCompletedSuccessfully ? await first : ($"the connection broke: {first.Exception?.InnerException?.Message ?? "cancelled"}", SessionEnd.Error);
        await Task.WhenAll(toBrowser, fromBrowser).ContinueWith(_ => { }, TaskScheduler.Default);
        if (browser.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "display closed", closing.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        session.BytesToClient = session.BytesToClientField;
        session.BytesFromClient = session.BytesFromClientField;
        return ended;
    }

    internal static async Task Refuse(HttpContext http, int status, string code, string detail)
    {
        http.Response.StatusCode = status;
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = status, Title = "Cannot open the console", Detail = detail, Type = Problems.TypePrefix + code },
        });
    }

    private static string Hash(string secret) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
