using System.Net.Mail;
using Stratus.Platform.Http;

namespace Stratus.Monitoring.Rules;

/// <summary>A PATCH of a rule: null fields stay; notificationChannels, when given, replaces the channels (portal is always on).</summary>
public sealed record AlertRulePatch(bool? Enabled, string? Severity, ThresholdPatch? Threshold, IReadOnlyList<ChannelPatch?>? NotificationChannels,
    string? DisplayName, string? AlertRuleTemplate);

public sealed record ThresholdPatch(string? Aggregation, string? Operator, int? Target);

/// <param name="Secret">The webhook's signing key (16 to 256 characters); may be left out when the URL stays as it is.</param>
public sealed record ChannelPatch(string? NotificationChannelType, IReadOnlyList<NotificationReceiver?>? NotificationReceivers, string? Url, string? Secret);

/// <summary>Checks a whole PATCH, naming every bad field, and applies it only when all of it is valid.</summary>
public static class RulePatchRules
{
    public const int MaxTarget = 10_000;
    public const int MaxRecipients = 20;

    public static Validator Validate(AlertRulePatch patch, AlertRule rule)
    {
        var validator = new Validator()
            .Check(patch.DisplayName is null || patch.DisplayName == rule.DisplayName, "displayName", "A built-in rule's 'displayName' cannot change.")
            .Check(patch.AlertRuleTemplate is null || patch.AlertRuleTemplate == Notifications.Naming.Of(rule.Template), "alertRuleTemplate",
                "A rule's 'alertRuleTemplate' cannot change.")
            .Check(patch.Severity is null || ParseSeverity(patch.Severity) is not null, "severity", "'severity' must be unknown, informational, warning or critical.");
        if (patch.Threshold is { } threshold)
        {
            validator
                .Check(threshold.Aggregation is null or "count", "threshold.aggregation", "'threshold.aggregation' must be count.")
                .Check(threshold.Operator is null or "greaterOrEqual", "threshold.operator", "'threshold.operator' must be greaterOrEqual.")
                .Check(threshold.Target is null or (>= 1 and <= MaxTarget), "threshold.target", $"'threshold.target' must be between 1 and {MaxTarget}.");
        }

        if (patch.NotificationChannels is { } channels)
        {
            ValidateChannels(channels, rule, validator);
        }

        return validator;
    }

    private static void ValidateChannels(IReadOnlyList<ChannelPatch?> channels, AlertRule rule, Validator validator)
    {
        var types = channels.Select(c => c?.NotificationChannelType).ToList();
        validator.Check(types.Distinct().Count() == types.Count, "notificationChannels", "Name each channel type at most once.");
        for (var i = 0; i < channels.Count; i++)
        {
            var field = $"notificationChannels[{i}]";
            switch (channels[i])
            {
                case null:
                    validator.Add(field, $"'{field}' must be a channel object.");
                    break;
                case { NotificationChannelType: "portal" }:
                    break;
                case { NotificationChannelType: "email" } email:
                    var receivers = email.NotificationReceivers ?? [];
                    validator.Check(receivers.Count is >= 1 and <= MaxRecipients, $"{field}.notificationReceivers",
                        $"An e-mail channel needs 1 to {MaxRecipients} receivers; leave the channel out to send no e-mail.");
                    for (var r = 0; r < receivers.Count; r++)
                    {
                        validator.Check(IsAddress(receivers[r]?.ContactInformation), $"{field}.notificationReceivers[{r}].contactInformation",
                            $"'{receivers[r]?.ContactInformation}' is not an e-mail address such as ops@example.com.");
                    }

                    break;
                case { NotificationChannelType: "webhook" } webhook:
                    validator.Check(IsWebhookUrl(webhook.Url), $"{field}.url", "'url' must be an absolute http:// or https:// URL with a host, at most 2048 characters.");
                    var keepsSecret = webhook.Secret is null && webhook.Url == rule.WebhookUrl && rule.WebhookSecret is not null;
                    validator.Check(keepsSecret || webhook.Secret is { Length: >= 16 and <= 256 }, $"{field}.secret",
                        "'secret' (16 to 256 characters) is required for a new webhook URL: the receiver checks each delivery's signature with it.");
                    break;
                default:
                    validator.Add($"{field}.notificationChannelType", "'notificationChannelType' must be portal, email or webhook.");
                    break;
            }
        }
    }

    public static void Apply(AlertRulePatch patch, AlertRule rule, DateTimeOffset now)
    {
        rule.Enabled = patch.Enabled ?? rule.Enabled;
        rule.Severity = patch.Severity is null ? rule.Severity : ParseSeverity(patch.Severity)!.Value;
        rule.ThresholdTarget = patch.Threshold?.Target ?? rule.ThresholdTarget;
        if (patch.NotificationChannels is { } channels)
        {
            var email = channels.FirstOrDefault(c => c?.NotificationChannelType == "email");
            rule.EmailRecipients = string.Join(';', email?.NotificationReceivers?.Select(r => r!.ContactInformation!.Trim()) ?? []);
            var webhook = channels.FirstOrDefault(c => c?.NotificationChannelType == "webhook");
            rule.WebhookSecret = webhook is null ? null : webhook.Secret ?? rule.WebhookSecret;
            rule.WebhookUrl = webhook?.Url;
        }

        rule.LastModifiedAt = now;
        rule.ConcurrencyStamp = Guid.NewGuid();
    }

    public static AlertSeverity? ParseSeverity(string value) =>
        Enum.GetValues<AlertSeverity>().Select(s => (AlertSeverity?)s).FirstOrDefault(s => Notifications.Naming.Of(s!.Value) == value);

    private static bool IsAddress(string? value)
    {
        // MailAddress also takes "Name <a@b>" and surrounding text; a receiver is one bare address.
        return value is { Length: > 0 and <= 254 } && !value.Contains(';', StringComparison.Ordinal)
            && MailAddress.TryCreate(value.Trim(), out var address) && address.Address == value.Trim() && address.Host.Length > 0;
    }

    private static bool IsWebhookUrl(string? value) =>
        value is { Length: <= 2048 } && Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && !string.IsNullOrEmpty(uri.Host) && string.IsNullOrEmpty(uri.UserInfo);
}
