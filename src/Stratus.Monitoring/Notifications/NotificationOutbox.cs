using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Stratus.Monitoring.Persistence;
using Stratus.Monitoring.Records;
using Stratus.Monitoring.Rules;

namespace Stratus.Monitoring.Notifications;

/// <summary>The JSON a webhook receives for one record's state change (and the data of its e-mail).</summary>
public sealed record AlertNotification(Guid AlertRecordId, Guid AlertRuleId, Guid? TenantId, string AlertRuleTemplate, string DisplayName,
    string Severity, string Status, AlertImpactView AlertImpact, string Detail, DateTimeOffset DetectedDateTime, DateTimeOffset? ResolvedDateTime,
    DateTimeOffset LastUpdatedDateTime);

public sealed record AlertImpactView(string AggregationType, int Value);

/// <summary>Queues a record's notifications in the context's unsaved changes, so they commit with the change itself.</summary>
public sealed class NotificationOutbox(MonitoringDbContext db, IOptions<MonitoringOptions> options, TimeProvider clock)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } };

    public void Queue(AlertRule rule, AlertRecord record)
    {
        var payload = JsonSerializer.Serialize(Describe(record), Json);
        var subject = $"[Stratus] {Naming.Of(record.Severity)} alert {Naming.Of(record.Status)}: {record.DisplayName} ({record.ImpactCount} impacted)";
        if (rule.Recipients().Count > 0)
        {
            Add(rule, record, NotificationChannel.Email, rule.EmailRecipients, subject, payload);
        }

        if (rule.WebhookUrl is { } url)
        {
            Add(rule, record, NotificationChannel.Webhook, url, subject, payload);
        }
    }

    public static AlertNotification Describe(AlertRecord record) => new(record.Id, record.RuleId,
        record.Scope == AlertScope.Platform ? null : record.Scope, Naming.Of(record.Template), record.DisplayName, Naming.Of(record.Severity),
        Naming.Of(record.Status), new AlertImpactView("count", record.ImpactCount), record.Detail, record.DetectedAt, record.ResolvedAt, record.LastUpdatedAt);

    private void Add(AlertRule rule, AlertRecord record, NotificationChannel channel, string target, string subject, string payload)
    {
        var now = clock.GetUtcNow();
        db.Notifications.Add(new Notification
        {
            Id = Guid.CreateVersion7(now),
            Scope = rule.Scope,
            RuleId = rule.Id,
            RecordId = record.Id,
            Channel = channel,
            Target = target,
            Subject = subject,
            Payload = payload,
            Status = NotificationStatus.Pending,
            CreatedAt = now,
            NextAttemptAt = now,
            Deadline = now + options.Value.DeliveryDeadline,
        });
    }
}

/// <summary>Graph's camelCase names of the enums.</summary>
public static class Naming
{
    public static string Of<T>(T value)
        where T : struct, Enum
    {
        var name = value.ToString();
        return char.ToLowerInvariant(name[0]) + name[1..];
    }
}
