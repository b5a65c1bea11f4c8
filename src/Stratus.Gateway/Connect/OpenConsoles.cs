using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Security.Claims;
using Microsoft.Extensions.Logging;
using Stratus.Platform.Auth;

namespace Stratus.Gateway.Connect;

/// <summary>
/// The console sessions open on this gateway instance, each closed as soon as the instance learns that its account's
/// or tenant's credentials were revoked after its ticket was issued (a user disabled, a role taken away, a tenant
/// suspended: ADR 0011). A ticket is issued only after a fresh look at the revocations, so that one issued after a
/// revocation was never issued to a revoked credential.
/// </summary>
public sealed partial class OpenConsoles : IDisposable
{
    public const string RevokedReason = "closed: the account's access was revoked (disabled, a role removed, or its tenant suspended)";

    private readonly ConcurrentDictionary<Guid, TrackedConsole> open = new();
    private readonly CredentialRevocations revocations;
    private readonly RevocationPoller poller;
    private readonly ILogger<OpenConsoles> logger;

    public OpenConsoles(CredentialRevocations revocations, RevocationPoller poller, ILogger<OpenConsoles> logger, IMeterFactory meters)
    {
        this.revocations = revocations;
        this.poller = poller;
        this.logger = logger;
        revocations.Learned += CloseRevoked;
        // This instance's own count, from memory: a scrape never touches the store, and the instances' values add up.
        meters.Create(MeterName).CreateObservableGauge("stratus.gateway.open_consoles", () => open.Count, "{session}",
            "Console sessions open on this gateway instance.");
    }

    /// <summary>The gateway's meter; AddMeter("Stratus.*") exports it.</summary>
    public const string MeterName = "Stratus.Gateway";

    /// <summary>
    /// True when the caller's credential is revoked as identity says now (asked at once; when identity does not answer,
    /// as this instance last heard, which authentication already checked).
    /// </summary>
    public async Task<bool> IsRevokedNowAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await poller.RefreshAsync(cancellationToken);
        return revocations.IsRevoked(user);
    }

    /// <summary>Tracks a session opened with <paramref name="ticket"/> until the returned handle is disposed.</summary>
    public TrackedConsole Track(ConnectToken ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        var console = new TrackedConsole(this, ticket);
        open[console.Id] = console;

        // Revoked between the ticket and the WebSocket: closed at once.
        CloseIfRevoked(console);
        return console;
    }

    public void Dispose() => revocations.Learned -= CloseRevoked;

    private void CloseRevoked(IReadOnlyList<CredentialRevocation> learned)
    {
        foreach (var console in open.Values)
        {
            CloseIfRevoked(console);
        }
    }

    private void CloseIfRevoked(TrackedConsole console)
    {
        if (revocations.IsRevoked(console.Ticket.UserId, console.Ticket.TenantId, console.Ticket.CreatedAt) && console.TryClose())
        {
            LogClosing(logger, console.Ticket.SessionId, console.Ticket.UserName);
        }
    }

    internal void Forget(TrackedConsole console) => open.TryRemove(console.Id, out _);

    [LoggerMessage(EventId = 4901, Level = LogLevel.Warning, Message = "Closing console session {SessionId} of {UserName}: the account's access was revoked")]
    private static partial void LogClosing(ILogger logger, Guid sessionId, string userName);
}

/// <summary>One open console: <see cref="Revoked"/> is cancelled when it must close.</summary>
public sealed class TrackedConsole(OpenConsoles owner, ConnectToken ticket) : IDisposable
{
    private readonly CancellationTokenSource revoked = new();

    internal Guid Id { get; } = Guid.NewGuid();

    internal ConnectToken Ticket => ticket;

    public CancellationToken Revoked => revoked.Token;

    private int closed;

    /// <summary>Cancels <see cref="Revoked"/> once; false when it was closed already.</summary>
    internal bool TryClose()
    {
        if (Interlocked.Exchange(ref closed, 1) == 1)
        {
            return false;
        }

        try
        {
            revoked.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session ended meanwhile: nothing left to close.
        }

        return true;
    }

    public void Dispose()
    {
        owner.Forget(this);
        revoked.Dispose();
    }
}
