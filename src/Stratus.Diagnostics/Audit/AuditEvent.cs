namespace Stratus.Diagnostics.Audit;

/// <summary>One audited activity, shaped like Graph's cloudPcAuditEvent.</summary>
public sealed class AuditEvent
{
    public Guid Id { get; init; }

    /// <summary>Null for platform-level activity (the operator's, or sign-ins to no tenant).</summary>
    public Guid? TenantId { get; init; }

    public required string DisplayName { get; init; }

    /// <summary>Graph's cloudPcAuditCategory; "authentication" for sign-ins.</summary>
    public required string Category { get; init; }

    public required string Activity { get; init; }

    public required string ActivityType { get; init; }

    /// <summary>success or failure.</summary>
    public required string ActivityResult { get; init; }

    public DateTimeOffset ActivityDateTime { get; init; }

    public Guid? ActorId { get; init; }

    public required string ActorUserPrincipalName { get; init; }

    public string? ActorIpAddress { get; init; }

    /// <summary>The resources it touched (Graph's cloudPcAuditResource), as JSON.</summary>
    public string ResourcesJson { get; init; } = "[]";

    /// <summary>The event it was recorded from: one audit row per event, however often it is delivered.</summary>
    public Guid SourceMessageId { get; init; }
}
