using Stratus.Diagnostics.Persistence;
using Stratus.Platform.Audit;
using Stratus.Platform.Messaging;

namespace Stratus.Diagnostics.Audit;

/// <summary>Keeps every service's audited activity, once per event however often it is delivered.</summary>
internal sealed class AuditRecordedHandler(DiagnosticsDbContext db) : IMessageHandler<AuditRecorded>
{
    public async Task HandleAsync(AuditRecorded message, MessageContext context, CancellationToken cancellationToken)
    {
        db.AuditEvents.Add(new AuditEvent
        {
            Id = message.Id,
            TenantId = message.TenantId,
            DisplayName = Truncate(message.DisplayName, 256),
            Category = message.Category,
            Activity = message.Activity,
            ActivityType = message.ActivityType,
            ActivityResult = message.ActivityResult,
            ActivityDateTime = message.ActivityDateTime,
            ActorId = message.ActorId,
            ActorUserPrincipalName = Truncate(message.ActorUserPrincipalName, 256),
            ActorIpAddress = message.ActorIpAddress,
            ResourcesJson = System.Text.Json.JsonSerializer.Serialize(message.Resources, MessageJson.Options),
            SourceMessageId = context.MessageId,
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
