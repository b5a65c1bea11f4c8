using System.Text;
using System.Text.Json;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Stratus.Monitoring.Notifications;

/// <summary>Sends a notification as one e-mail to its recipients through the configured SMTP server (MailKit).</summary>
public sealed class EmailSender(IOptions<MonitoringOptions> options)
{
    /// <returns>The server's answer to the message.</returns>
    public async Task<string> SendAsync(Notification notification, CancellationToken cancellationToken)
    {
        var smtp = options.Value.Smtp;
        if (string.IsNullOrWhiteSpace(smtp.Host))
        {
            throw new InvalidOperationException("No SMTP server is configured: set Stratus:Monitoring:Smtp:Host (and Port, From, Security).");
        }

        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(smtp.From));
        foreach (var recipient in notification.Target.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            message.To.Add(MailboxAddress.Parse(recipient));
        }

        message.Subject = notification.Subject;
        message.Body = new TextPart("plain") { Text = Body(notification) };

        using var client = new SmtpClient();
        await client.ConnectAsync(smtp.Host, smtp.Port, smtp.Security, cancellationToken);
        if (!string.IsNullOrEmpty(smtp.UserName))
        {
            await client.AuthenticateAsync(smtp.UserName, smtp.Password ?? "", cancellationToken);
        }

        var answer = await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
        return answer;
    }

    private static string Body(Notification notification)
    {
        var alert = JsonSerializer.Deserialize<AlertNotification>(notification.Payload, NotificationOutbox.Json)!;
        var text = new StringBuilder()
            .AppendLine($"Alert: {alert.DisplayName} ({alert.AlertRuleTemplate})")
            .AppendLine($"Status: {alert.Status}")
            .AppendLine($"Severity: {alert.Severity}")
            .AppendLine($"Impacted: {alert.AlertImpact.Value}")
            .AppendLine($"Detail: {alert.Detail}")
            .AppendLine($"Detected: {alert.DetectedDateTime:u}");
        if (alert.ResolvedDateTime is { } resolved)
        {
            text.AppendLine($"Resolved: {resolved:u}");
        }

        return text.AppendLine($"Record: {alert.AlertRecordId} (GET /api/v1/alertRecords/{alert.AlertRecordId})").ToString();
    }
}
