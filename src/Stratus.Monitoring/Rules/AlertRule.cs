namespace Stratus.Monitoring.Rules;

/// <summary>Graph's alertRuleTemplate values Stratus raises (REFERENCE.md section 6), plus its own disk copy rule.</summary>
public enum AlertRuleTemplate
{
    CloudPcProvisionScenario,
    CloudPcImageUploadScenario,
    CloudPcOnPremiseNetworkConnectionCheckScenario,
    CloudPcInGracePeriodScenario,

    /// <summary>A host is down, so its Cloud PCs cannot be reached: the platform operator's rule, not a tenant's.</summary>
    CloudPcInaccessibleScenario,

    /// <summary>Stratus's own: a Cloud PC's disk copies (its restore points' source) are late or failing.</summary>
    CloudPcDiskCopyScenario,
}

public enum AlertSeverity
{
    Unknown,
    Informational,
    Warning,
    Critical,
}

/// <summary>
/// One built-in rule of one scope: a tenant's, or the platform operator's (<see cref="AlertScope.Platform"/>).
/// A record opens when at least <see cref="ThresholdTarget"/> subjects (Cloud PCs, images, hosts ...) are impacted.
/// </summary>
public sealed class AlertRule
{
    public Guid Id { get; set; }

    public Guid Scope { get; set; }

    public AlertRuleTemplate Template { get; set; }

    public required string DisplayName { get; set; }

    public bool Enabled { get; set; }

    public AlertSeverity Severity { get; set; }

    public int ThresholdTarget { get; set; }

    /// <summary>Addresses separated by ';'; empty: no e-mail.</summary>
    public string EmailRecipients { get; set; } = "";

    public string? WebhookUrl { get; set; }

    /// <summary>The HMAC key of the webhook's signature; kept readable because every delivery signs with it, never shown.</summary>
    public string? WebhookSecret { get; set; }

    public DateTimeOffset LastModifiedAt { get; set; }

    /// <summary>Changed by every evaluation, so that two events evaluating the rule at once cannot both open a record.</summary>
    public Guid ConcurrencyStamp { get; set; }

    public IReadOnlyList<string> Recipients() => EmailRecipients.Split(';', StringSplitOptions.RemoveEmptyEntries);
}

public static class AlertScope
{
    /// <summary>The platform operator's scope (hosts belong to no tenant).</summary>
    public static readonly Guid Platform = Guid.Empty;
}
