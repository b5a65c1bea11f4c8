namespace Stratus.Gateway.Connect;

/// <summary>A single-use ticket to open one Cloud PC's console, bound to its user; only its hash is kept.</summary>
public sealed class ConnectToken
{
    public Guid Id { get; init; }

    public required string TokenHash { get; init; }

    public Guid TenantId { get; init; }

    /// <summary>Who connects: the Cloud PC's user, or a console operator of the tenant.</summary>
    public Guid UserId { get; init; }

    public required string UserName { get; init; }

    public Guid CloudPcId { get; init; }

    public string? CloudPcName { get; init; }

    /// <summary>Whose Cloud PC it is; differs from <see cref="UserId"/> when an operator connects.</summary>
    public Guid CloudPcUserId { get; init; }

    public string? CloudPcUserPrincipalName { get; init; }

    /// <summary>The connection came through the admin route, by the cloudPcConsoleOperator role.</summary>
    public bool AsOperator { get; init; }

    public Guid VmId { get; init; }

    /// <summary>The id the session will have once the ticket opens one, given to the browser with the ticket.</summary>
    public Guid SessionId { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    public DateTimeOffset? UsedAt { get; set; }

    /// <summary>
    /// A token for consoles.relay exchanged from the connecting user's own token at Connect (ADR 0016), sealed with the
    /// ticket's secret (<see cref="RelayTokenSeal"/>): the relay is asked for when the ticket is redeemed, when the
    /// user's token is no longer at hand. Cleared once the ticket is redeemed.
    /// </summary>
    public string? SealedRelayToken { get; set; }
}

/// <summary>One console connection: who, which Cloud PC (and whose), when, and the bytes each way.</summary>
public sealed class ConsoleSession
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public Guid UserId { get; init; }

    public required string UserName { get; init; }

    public Guid CloudPcId { get; init; }

    public string? CloudPcUserPrincipalName { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; set; }

    public long BytesToClient { get; set; }

    public long BytesFromClient { get; set; }

    // Counted by the two pumps of a live session; copied to the properties when it ends.
    internal long BytesToClientField;

    internal long BytesFromClientField;

    public string? EndReason { get; set; }

    /// <summary>How it ended, for the connection history: closed by the user, dropped, or revoked; null while open.</summary>
    public SessionEnd? EndedBy { get; set; }

    /// <summary>The gateway instance that carried it (<see cref="GatewayOptions.InstanceName"/>), and its zone.</summary>
    public string? GatewayInstance { get; init; }

    public string? GatewayZone { get; init; }
}

/// <summary>Why a console session ended.</summary>
public enum SessionEnd
{
    /// <summary>The browser closed the WebSocket: the user closed the console.</summary>
    ClosedByUser,

    /// <summary>The Cloud PC's display closed (the VM restarting or stopping).</summary>
    DisplayClosed,

    /// <summary>The connection broke: a network error or the browser vanished without closing.</summary>
    Error,

    /// <summary>The account's access was revoked while it was open (ADR 0011).</summary>
    Revoked,
}

/// <summary>
/// One round-trip time of a session, measured by the gateway: from the moment it handed the browser a probe to
/// the moment the browser's echo of it arrived, both on the gateway's clock.
/// </summary>
public sealed class RoundTripSample
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public Guid SessionId { get; init; }

    /// <summary>When the probe was handed out; one sample per probe (a replay is refused).</summary>
    public DateTimeOffset SentAt { get; init; }

    public double Milliseconds { get; init; }
}

/// <summary>Where a VM's display (QEMU's VNC on a unix socket) can be reached from this process, if anywhere.</summary>
public interface IVmConsoles
{
    string? FindVncSocket(Guid vmId);
}
