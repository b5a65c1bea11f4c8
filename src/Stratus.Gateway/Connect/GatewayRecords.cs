namespace Stratus.Gateway.Connect;

/// <summary>A single-use ticket to open one Cloud PC's console, bound to its user; only its hash is kept.</summary>
public sealed class ConnectToken
{
    public Guid Id { get; init; }

    public required string TokenHash { get; init; }

    public Guid TenantId { get; init; }

    public Guid UserId { get; init; }

    public required string UserName { get; init; }

    public Guid CloudPcId { get; init; }

    public Guid VmId { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    public DateTimeOffset? UsedAt { get; set; }
}

/// <summary>One console connection: who, which Cloud PC, when, and the bytes each way.</summary>
public sealed class ConsoleSession
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public Guid UserId { get; init; }

    public required string UserName { get; init; }

    public Guid CloudPcId { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; set; }

    public long BytesToClient { get; set; }

    public long BytesFromClient { get; set; }

    // Counted by the two pumps of a live session; copied to the properties when it ends.
    internal long BytesToClientField;

    internal long BytesFromClientField;

    public string? EndReason { get; set; }
}

/// <summary>Where a VM's display (QEMU's VNC on a unix socket) can be reached from this process, if anywhere.</summary>
public interface IVmConsoles
{
    string? FindVncSocket(Guid vmId);
}
