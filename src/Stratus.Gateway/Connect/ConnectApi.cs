using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Stratus.Gateway.Persistence;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Gateway.Connect;

public sealed record ConnectView(string Token, DateTimeOffset ExpiresDateTime, string WebSocketPath);

internal sealed record MyCloudPc(Guid Id, string ManagedDeviceName, string Status, string PowerState, Guid VmId);

/// <summary>
/// The connectivity layer: a user asks to connect to their own Cloud PC and gets a ticket that opens, once and
/// within a minute, a WebSocket carrying the VM's display (VNC, which noVNC speaks in the browser).
/// </summary>
public static partial class ConnectApi
{
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromSeconds(60);

    public static IEndpointRouteBuilder MapConnectApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/v1/me/cloudPCs/{id:guid}/connect", ConnectAsync).WithTags("Gateway").WithName("ConnectToMyCloudPc")
            .WithSummary("A single-use ticket (60 s) to open the Cloud PC's console").RequireAuthorization(StratusPolicies.TenantMember);

        // Anonymous on purpose: the browser cannot send a bearer header on a WebSocket, the single-use ticket is the credential.
        endpoints.MapGet("/api/v1/gateway/console", ConsoleAsync).WithTags("Gateway").WithName("OpenConsole")
            .WithSummary("WebSocket: ?token=TICKET; carries the VM's VNC").AllowAnonymous();
        endpoints.MapGet("/api/v1/me/sessions", ListSessionsAsync).WithTags("Gateway").WithName("ListMySessions").RequireAuthorization(StratusPolicies.TenantMember);
        return endpoints;
    }

    private static async Task<Results<Ok<ConnectView>, ProblemHttpResult>> ConnectAsync(
        Guid id, HttpContext http, GatewayDbContext db, ServiceCalls calls, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var user = http.User.AccountId();

        // Only the Cloud PC's own user: provisioning answers /me for the account the ticket is for.
        using var provisioning = calls.For("provisioning", tenant, StratusRoles.User, user);
        using var response = await provisioning.GetAsync($"/api/v1/me/cloudPCs/{id}", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return Problems.NotFound("Cloud PC", id);
        }

        if (!response.IsSuccessStatusCode)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable", type: Problems.TypePrefix + "dependency-unavailable",
                detail: "Cannot look up the Cloud PC right now; try again in a moment.");
        }

        var pc = (await response.Content.ReadFromJsonAsync<MyCloudPc>(cancellationToken))!;
        if (pc.Status is not ("provisioned" or "inGracePeriod") || pc.PowerState != "running")
        {
            return Problems.Conflict("cloud-pc-not-running",
                $"{pc.ManagedDeviceName} is {pc.Status} and {pc.PowerState}; you can connect once it is provisioned and running{(pc.PowerState == "poweredOff" ? " (start it first)" : "")}.");
        }

        var now = clock.GetUtcNow();
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        db.ConnectTokens.Add(new ConnectToken
        {
            Id = Guid.CreateVersion7(now), TokenHash = Hash(secret), TenantId = tenant, UserId = user, UserName = http.User.UserName(),
            CloudPcId = pc.Id, VmId = pc.VmId, CreatedAt = now, ExpiresAt = now + TokenLifetime,
        });
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new ConnectView(secret, now + TokenLifetime, $"/api/v1/gateway/console?token={secret}"));
    }

    private static async Task ConsoleAsync(HttpContext http, GatewayDbContext db, IServiceProvider services, TimeProvider clock, ILoggerFactory loggers, string? token)
    {
        var logger = loggers.CreateLogger("Stratus.Gateway.Console");
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Refuse(http, StatusCodes.Status400BadRequest, "This is a WebSocket endpoint: open it from the console page.");
            return;
        }

        var now = clock.GetUtcNow();
        var hash = Hash(token ?? "");

        // Consumed in one statement: of two requests with one ticket, exactly one gets it.
        var taken = await db.ConnectTokens.Where(t => t.TokenHash == hash && t.UsedAt == null && t.ExpiresAt > now)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.UsedAt, now), http.RequestAborted);
        var ticket = taken == 1 ? await db.ConnectTokens.AsNoTracking().FirstAsync(t => t.TokenHash == hash, http.RequestAborted) : null;
        if (ticket is null)
        {
            await Refuse(http, StatusCodes.Status403Forbidden, "This connection ticket is unknown, used or expired; click Connect again.");
            return;
        }

        var socketPath = services.GetService<IVmConsoles>()?.FindVncSocket(ticket.VmId);
        if (socketPath is null)
        {
            await Refuse(http, StatusCodes.Status409Conflict, "The Cloud PC's display is not reachable from this gateway; it may be restarting. Try again.");
            return;
        }

        using var vnc = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await vnc.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), http.RequestAborted);
        }
        catch (SocketException e)
        {
            LogDisplayUnreachable(logger, ticket.CloudPcId, e.Message);
            await Refuse(http, StatusCodes.Status409Conflict, "The Cloud PC's display does not answer; it may be restarting. Try again in a moment.");
            return;
        }

        using var browser = await http.WebSockets.AcceptWebSocketAsync(http.WebSockets.WebSocketRequestedProtocols.Contains("binary") ? "binary" : null);
        var session = new ConsoleSession
        {
            Id = Guid.CreateVersion7(now), TenantId = ticket.TenantId, UserId = ticket.UserId, UserName = ticket.UserName, CloudPcId = ticket.CloudPcId, StartedAt = now,
        };
        db.Sessions.Add(session);
        db.Audit(clock, ticket.TenantId, new AuditActor(ticket.UserId, ticket.UserName, http.Connection.RemoteIpAddress?.ToString() ?? ""), "cloudPc", "Connect",
            $"{ticket.UserName} connected to the console", true, new AuditResource(ticket.CloudPcId.ToString(), "cloudPc", ticket.CloudPcId.ToString()));
        await db.SaveChangesAsync(http.RequestAborted);
        LogSessionStarted(logger, session.Id, ticket.UserName, ticket.CloudPcId);

        var reason = await BridgeAsync(browser, vnc, session, http.RequestAborted);
        session.EndedAt = clock.GetUtcNow();
        session.EndReason = reason;
        await db.SaveChangesAsync(CancellationToken.None);
        LogSessionEnded(logger, session.Id, reason, session.BytesToClient, session.BytesFromClient);
    }

    /// <summary>Copies bytes both ways until either side closes; returns why it ended.</summary>
    private static async Task<string> BridgeAsync(WebSocket browser, Socket vnc, ConsoleSession session, CancellationToken cancellationToken)
    {
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var toBrowser = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var read = await vnc.ReceiveAsync(buffer, SocketFlags.None, done.Token);
                if (read == 0)
                {
                    return "the Cloud PC's display closed (it may be restarting)";
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
                    return "the browser closed the connection";
                }

                await vnc.SendAsync(buffer.AsMemory(0, received.Count), SocketFlags.None, done.Token);
                Interlocked.Add(ref session.BytesFromClientField, received.Count);
            }
        }, done.Token);

        var first = await Task.WhenAny(toBrowser, fromBrowser);
        await done.CancelAsync();
        var reason = first.IsCompletedSuccessfully ? await first : $"the connection broke: {first.Exception?.InnerException?.Message ?? "cancelled"}";
        await Task.WhenAll(toBrowser, fromBrowser).ContinueWith(_ => { }, TaskScheduler.Default);
        if (browser.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "display closed", closing.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        session.BytesToClient = session.BytesToClientField;
        session.BytesFromClient = session.BytesFromClientField;
        return reason;
    }

    private static async Task<Ok<List<ConsoleSession>>> ListSessionsAsync(HttpContext http, GatewayDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var user = http.User.AccountId();
        return TypedResults.Ok(await db.Sessions.AsNoTracking().Where(s => s.TenantId == tenant && s.UserId == user)
            .OrderByDescending(s => s.StartedAt).Take(50).ToListAsync(cancellationToken));
    }

    private static async Task Refuse(HttpContext http, int status, string detail)
    {
        http.Response.StatusCode = status;
        await http.Response.WriteAsJsonAsync(new { type = Problems.TypePrefix + "console-refused", title = "Cannot open the console", status, detail },
            options: null, contentType: "application/problem+json");
    }

    private static string Hash(string secret) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    [LoggerMessage(Level = LogLevel.Information, Message = "Console session {SessionId} started: {User} on Cloud PC {CloudPcId}")]
    private static partial void LogSessionStarted(ILogger logger, Guid sessionId, string user, Guid cloudPcId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Console session {SessionId} ended ({Reason}): {ToClient} bytes to the browser, {FromClient} from it")]
    private static partial void LogSessionEnded(ILogger logger, Guid sessionId, string reason, long toClient, long fromClient);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The display of Cloud PC {CloudPcId} does not answer: {Reason}")]
    private static partial void LogDisplayUnreachable(ILogger logger, Guid cloudPcId, string reason);
}
