using Stratus.Monitoring.Notifications;

namespace Stratus.Monitoring.Rules;

/// <summary>Graph's alertRule, with Stratus's webhook channel beside portal and e-mail.</summary>
public sealed record AlertRuleView(Guid Id, string AlertRuleTemplate, string DisplayName, string Description, bool Enabled, bool IsSystemRule,
    string Severity, RuleThreshold Threshold, IReadOnlyList<NotificationChannelView> NotificationChannels, DateTimeOffset LastModifiedDateTime)
{
    public static AlertRuleView From(AlertRule rule)
    {
        var channels = new List<NotificationChannelView> { new("portal", [], null, null) };
        if (rule.Recipients().Count > 0)
        {
            channels.Add(new("email", rule.Recipients().Select(r => new NotificationReceiver(r)).ToList(), null, null));
        }

        if (rule.WebhookUrl is { } url)
        {
            channels.Add(new("webhook", [], url, rule.WebhookSecret is not null));
        }

        return new(rule.Id, Naming.Of(rule.Template), rule.DisplayName, BuiltInRules.Describe(rule.Template), rule.Enabled, IsSystemRule: true,
            Naming.Of(rule.Severity), new RuleThreshold("count", "greaterOrEqual", rule.ThresholdTarget), channels, rule.LastModifiedAt);
    }
}

public sealed record RuleThreshold(string Aggregation, string Operator, int Target);

/// <param name="NotificationChannelType">portal, email or webhook.</param>
/// <param name="Url">The webhook's URL (webhook only).</param>
/// <param name="SecretSet">True when the webhook has its signing secret (never shown).</param>
public sealed record NotificationChannelView(string NotificationChannelType, IReadOnlyList<NotificationReceiver> NotificationReceivers, string? Url, bool? SecretSet);

public sealed record NotificationReceiver(string ContactInformation);
