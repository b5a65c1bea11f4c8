namespace Stratus.Monitoring.Notifications;

public enum NotificationChannel
{
    Email,
    Webhook,
}

public enum NotificationStatus
{
    Pending,
    Delivered,
    Failed,
}

/// <summary>
/// One notification of one record's state change on one channel: written in the transaction that changed the record
/// (so a change is never notified twice or lost across a restart) and delivered by <see cref="NotificationDispatcher"/>.
/// </summary>
public sealed class Notification
{
    public Guid Id { get; set; }

    public Guid Scope { get; set; }

    public Guid RuleId { get; set; }

    public Guid RecordId { get; set; }

    public NotificationChannel Channel { get; set; }

    /// <summary>The recipients (';'-separated) or the webhook's URL, as the rule said when the record changed.</summary>
    public required string Target { get; set; }

    public required string Subject { get; set; }

    /// <summary>The webhook's JSON body, also the e-mail's data.</summary>
    public required string Payload { get; set; }

    public NotificationStatus Status { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset NextAttemptAt { get; set; }

    /// <summary>No attempt starts after this; the notification then fails.</summary>
    public DateTimeOffset Deadline { get; set; }

    public DateTimeOffset? DeliveredAt { get; set; }

    public string? LastError { get; set; }

    public List<DeliveryAttempt> AttemptLog { get; set; } = [];
}

/// <summary>One try to deliver a notification: the delivery log.</summary>
public sealed class DeliveryAttempt
{
    public Guid Id { get; set; }

    public Guid NotificationId { get; set; }

    public int Number { get; set; }

    public DateTimeOffset At { get; set; }

    public bool Succeeded { get; set; }

    /// <summary>The receiver's answer ("HTTP 200", "250 OK") or the error.</summary>
    public required string Detail { get; set; }
}
