using Stratus.Monitoring.Rules;

namespace Stratus.Monitoring.Records;

public enum AlertStatus
{
    Active,
    Resolved,
}

/// <summary>Graph's alertRecord: a rule's threshold was reached; resolved when it no longer is (or an administrator says so).</summary>
public sealed class AlertRecord
{
    public Guid Id { get; set; }

    public Guid Scope { get; set; }

    public Guid RuleId { get; set; }

    public AlertRuleTemplate Template { get; set; }

    public required string DisplayName { get; set; }

    public AlertSeverity Severity { get; set; }

    public AlertStatus Status { get; set; }

    /// <summary>How many subjects are impacted now (Graph's alertImpact, aggregation count).</summary>
    public int ImpactCount { get; set; }

    /// <summary>What the latest impact was, for the notification and the portal.</summary>
    public required string Detail { get; set; }

    public DateTimeOffset DetectedAt { get; set; }

    public DateTimeOffset LastUpdatedAt { get; set; }

    public DateTimeOffset? ResolvedAt { get; set; }

    public Guid ConcurrencyStamp { get; set; }
}

/// <summary>
/// One subject a rule's condition holds for now (a failed Cloud PC, a down host, ...), kept until its good event
/// arrives: their count is what the threshold compares.
/// </summary>
public sealed class AlertImpact
{
    public Guid Id { get; set; }

    public Guid Scope { get; set; }

    public AlertRuleTemplate Template { get; set; }

    /// <summary>"kind:id", such as cloudPc:GUID or host:GUID.</summary>
    public required string Subject { get; set; }

    public required string Detail { get; set; }

    public DateTimeOffset Since { get; set; }
}
