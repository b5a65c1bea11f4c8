using Stratus.Platform.Audit;
using Stratus.Provisioning.CloudPcs;

namespace Stratus.Provisioning.Network;

/// <summary>
/// An administrator's move of the Cloud PCs off one network connection (beyond Windows 365): one Cloud PC at a
/// time, in the order of <see cref="CloudPcIds"/>, each to the next usable connection of its policy. The record is
/// the orchestration's state, so a restart goes on where it stood (MoveNextCloudPc and the deadline are queued).
/// </summary>
public sealed class NetworkMove
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    /// <summary>The connection the Cloud PCs leave.</summary>
    public Guid FromConnectionId { get; init; }

    /// <summary>The Cloud PCs on it when the move was asked, in the order they are moved.</summary>
    public List<Guid> CloudPcIds { get; set; } = [];

    /// <summary>How many of <see cref="CloudPcIds"/> are done (moved, failed or left where they are).</summary>
    public int Done { get; set; }

    /// <summary>The compute operation of the Cloud PC being moved now; null between two.</summary>
    public Guid? CurrentOperationId { get; set; }

    /// <summary>Where the Cloud PC being moved now goes (null: the hosted network), and that connection's name.</summary>
    public Guid? CurrentTargetId { get; set; }

    public string? CurrentTargetName { get; set; }

    /// <summary>When the current Cloud PC's turn began: network unreachable, it is asked again until its deadline.</summary>
    public DateTimeOffset? CurrentStartedAt { get; set; }

    /// <summary>Why, as the audit records of each move say it.</summary>
    public required string Reason { get; init; }

    public required string RequestedBy { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>Optimistic concurrency: a late compute answer and the deadline may be handled at once.</summary>
    public Guid Version { get; set; }
}

/// <summary>The audit records of network connections on Cloud PCs (category cloudPc).</summary>
public static class NetworkAudit
{
    public const string Skipped = "networkConnectionSkipped";
    public const string Moved = "networkConnectionMoved";
    public const string MoveFailed = "networkConnectionMoveFailed";

    public static AuditResource CloudPcResource(CloudPc pc)
    {
        ArgumentNullException.ThrowIfNull(pc);
        return new AuditResource(pc.Id.ToString(), "cloudPc", pc.ManagedDeviceName);
    }

    public static AuditResource ConnectionResource(string connectionId, string? displayName) =>
        new(connectionId, "networkConnection", displayName ?? connectionId);

    /// <summary>A connection as an audit line names it: its name and id, or the hosted network.</summary>
    public static string Name(Guid? connectionId, string? displayName) =>
        connectionId is not { } id ? NetworkClient.HostedName : displayName is { } name ? $"{name} ({id})" : id.ToString();
}
