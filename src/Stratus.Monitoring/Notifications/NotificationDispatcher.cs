using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Monitoring.Persistence;
using Stratus.Platform.Jobs;

namespace Stratus.Monitoring.Notifications;

/// <summary>
/// Delivers the notifications due, oldest first, in the one instance that leads the job: each attempt goes in the
/// delivery log; a failed one is tried again after a delay that doubles, until the notification's deadline.
/// </summary>
public sealed partial class NotificationDispatcher(IServiceScopeFactory scopes, EmailSender email, WebhookSender webhooks,
    IOptionsMonitor<MonitoringOptions> options, TimeProvider clock, ILogger<NotificationDispatcher> log) : IPeriodicJob
{
    private const int Batch = 20;

    public string Name => "monitoring-notifications";

    public TimeSpan Interval => options.CurrentValue.DispatchInterval;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MonitoringDbContext>();
        var now = clock.GetUtcNow();
        var due = await db.Notifications.Where(n => n.Status == NotificationStatus.Pending && n.NextAttemptAt <= now)
            .OrderBy(n => n.NextAttemptAt).Take(Batch).ToListAsync(cancellationToken);
        foreach (var notification in due)
        {
            await DeliverAsync(db, notification, cancellationToken);
        }
    }

    private async Task DeliverAsync(MonitoringDbContext db, Notification notification, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        string detail;
        bool succeeded;
        using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            attempt.CancelAfter(settings.AttemptTimeout);
            try
            {
                detail = notification.Channel switch
                {
                    NotificationChannel.Email => await email.SendAsync(notification, attempt.Token),
                    NotificationChannel.Webhook => await webhooks.SendAsync(notification, await SecretAsync(db, notification, attempt.Token), attempt.Token),
                    _ => throw new InvalidOperationException($"Unknown channel {notification.Channel}."),
                };
                succeeded = true;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                detail = e is OperationCanceledException ? $"No answer within {settings.AttemptTimeout.TotalSeconds:0} s." : e.Message;
                succeeded = false;
            }
        }

        var now = clock.GetUtcNow();
        notification.Attempts++;
        db.DeliveryAttempts.Add(new DeliveryAttempt
        {
            Id = Guid.CreateVersion7(now),
            NotificationId = notification.Id,
            Number = notification.Attempts,
            At = now,
            Succeeded = succeeded,
            Detail = detail.Length <= 2000 ? detail : detail[..2000],
        });
        if (succeeded)
        {
            notification.Status = NotificationStatus.Delivered;
            notification.DeliveredAt = now;
            notification.LastError = null;
            LogDelivered(log, notification.Channel, notification.RecordId, notification.Attempts);
        }
        else
        {
            notification.LastError = detail.Length <= 2000 ? detail : detail[..2000];
            var delay = RetryDelay(settings, notification.Attempts);
            if (now + delay > notification.Deadline)
            {
                notification.Status = NotificationStatus.Failed;
                LogGivenUp(log, notification.Channel, notification.RecordId, notification.Attempts, detail);
            }
            else
            {
                notification.NextAttemptAt = now + delay;
                LogRetrying(log, notification.Channel, notification.RecordId, notification.Attempts, delay, detail);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>FirstRetryDelay after the first failure, doubled after each further one, at most MaxRetryDelay.</summary>
    public static TimeSpan RetryDelay(MonitoringOptions settings, int failedAttempts)
    {
        var factor = Math.Pow(2, Math.Min(failedAttempts - 1, 30));
        return TimeSpan.FromTicks((long)Math.Min(settings.FirstRetryDelay.Ticks * factor, settings.MaxRetryDelay.Ticks));
    }

    private static async Task<string> SecretAsync(MonitoringDbContext db, Notification notification, CancellationToken cancellationToken) =>
        await db.Rules.Where(r => r.Id == notification.RuleId).Select(r => r.WebhookSecret).FirstOrDefaultAsync(cancellationToken)
        ?? throw new InvalidOperationException("The rule has no webhook secret any more; set the webhook again.");

    [LoggerMessage(EventId = 8601, Level = LogLevel.Information, Message = "Alert notification by {Channel} for record {RecordId} delivered on attempt {Attempt}")]
    private static partial void LogDelivered(ILogger logger, NotificationChannel channel, Guid recordId, int attempt);

    [LoggerMessage(EventId = 8602, Level = LogLevel.Warning, Message = "Alert notification by {Channel} for record {RecordId} failed attempt {Attempt}; next in {Delay}: {Error}")]
    private static partial void LogRetrying(ILogger logger, NotificationChannel channel, Guid recordId, int attempt, TimeSpan delay, string error);

    [LoggerMessage(EventId = 8603, Level = LogLevel.Error, Message = "Alert notification by {Channel} for record {RecordId} given up after {Attempt} attempts: {Error}")]
    private static partial void LogGivenUp(ILogger logger, NotificationChannel channel, Guid recordId, int attempt, string error);
}
