using Stratus.Network.Connections;

namespace Stratus.Network.HealthChecks;

/// <summary>One run of a connection's checks on every host of its region; kept 28 days.</summary>
public sealed class HealthCheckRun
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public Guid ConnectionId { get; init; }

    public DateTimeOffset RequestedAt { get; init; }

    /// <summary>Who or what asked: an account's name, "scheduler", "created", "selection".</summary>
    public required string RequestedBy { get; init; }

    /// <summary>The run completes at this moment at the latest, with hostDidNotReport for each silent host.</summary>
    public DateTimeOffset Deadline { get; init; }

    /// <summary>The hosts' reports, as JSON: one <see cref="NetworkChecksReported"/> per host.</summary>
    public string HostReports { get; set; } = "[]";

    /// <summary>The aggregated checks, as JSON (<see cref="HealthCheckDetail"/>); null while running.</summary>
    public string? Detail { get; set; }

    public HealthCheckStatus Status { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    public Guid ConcurrencyStamp { get; set; }
}
