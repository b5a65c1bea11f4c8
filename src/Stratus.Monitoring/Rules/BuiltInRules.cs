using Microsoft.EntityFrameworkCore;
using Stratus.Monitoring.Persistence;

namespace Stratus.Monitoring.Rules;

/// <summary>The rules every scope has, created on first use with these defaults.</summary>
public sealed class BuiltInRules(MonitoringDbContext db, TimeProvider clock)
{
    private sealed record Default(AlertRuleTemplate Template, string DisplayName, AlertSeverity Severity, string Description);

    private static readonly Default[] TenantDefaults =
    [
        new(AlertRuleTemplate.CloudPcProvisionScenario, "Provisioning failures", AlertSeverity.Warning, "Cloud PCs whose provisioning failed."),
        new(AlertRuleTemplate.CloudPcImageUploadScenario, "Image upload failures", AlertSeverity.Warning, "Custom images that could not be uploaded or were refused."),
        new(AlertRuleTemplate.CloudPcOnPremiseNetworkConnectionCheckScenario, "Network connection check failures", AlertSeverity.Critical,
            "Network connections whose latest checks failed."),
        new(AlertRuleTemplate.CloudPcInGracePeriodScenario, "Cloud PCs in grace period", AlertSeverity.Informational,
            "Cloud PCs that lost their license or policy and will be deprovisioned when the grace period ends."),
        new(AlertRuleTemplate.CloudPcDiskCopyScenario, "Disk copy failures", AlertSeverity.Warning,
            "Cloud PCs whose disk copies (the source of their restore and recovery) are late or failing."),
    ];

    private static readonly Default[] PlatformDefaults =
    [
        new(AlertRuleTemplate.CloudPcInaccessibleScenario, "Hosts down", AlertSeverity.Critical, "Hosts that stopped reporting, so their Cloud PCs cannot be reached."),
    ];

    public static string Describe(AlertRuleTemplate template) =>
        TenantDefaults.Concat(PlatformDefaults).First(d => d.Template == template).Description;

    public static bool IsPlatform(AlertRuleTemplate template) => PlatformDefaults.Any(d => d.Template == template);

    /// <summary>The scope's rules, created (and saved) first when it has none yet.</summary>
    public async Task<List<AlertRule>> OfScopeAsync(Guid scope, CancellationToken cancellationToken)
    {
        var rules = await db.Rules.Where(r => r.Scope == scope).ToListAsync(cancellationToken);
        if (!AddMissing(scope, rules))
        {
            return [.. rules.OrderBy(r => r.Template)];
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another request created them at the same moment (the unique index refused ours): read theirs.
            db.ChangeTracker.Clear();
            return await db.Rules.Where(r => r.Scope == scope).OrderBy(r => r.Template).ToListAsync(cancellationToken);
        }

        return [.. rules.OrderBy(r => r.Template)];
    }

    /// <summary>
    /// The scope's rule of the template, added unsaved when missing: a handler saves it with its effect, in one
    /// transaction with its inbox record (a concurrent creation fails that save and the message is handled again).
    /// </summary>
    public async Task<AlertRule> OfTemplateAsync(Guid scope, AlertRuleTemplate template, CancellationToken cancellationToken)
    {
        // Added earlier in this unit of work (by another change of the same event), not yet in the database.
        if (db.Rules.Local.FirstOrDefault(r => r.Scope == scope && r.Template == template) is { } tracked)
        {
            return tracked;
        }

        var rules = await db.Rules.Where(r => r.Scope == scope).ToListAsync(cancellationToken);
        AddMissing(scope, rules);
        return rules.First(r => r.Template == template);
    }

    private bool AddMissing(Guid scope, List<AlertRule> rules)
    {
        var defaults = scope == AlertScope.Platform ? PlatformDefaults : TenantDefaults;
        var missing = defaults.Where(d => rules.All(r => r.Template != d.Template)).ToList();
        var now = clock.GetUtcNow();
        foreach (var d in missing)
        {
            var rule = new AlertRule
            {
                Id = Guid.CreateVersion7(now),
                Scope = scope,
                Template = d.Template,
                DisplayName = d.DisplayName,
                Enabled = true,
                Severity = d.Severity,
                ThresholdTarget = 1,
                LastModifiedAt = now,
                ConcurrencyStamp = Guid.NewGuid(),
            };
            db.Rules.Add(rule);
            rules.Add(rule);
        }

        return missing.Count > 0;
    }
}
