using MailKit.Security;

namespace Stratus.Monitoring;

/// <summary>Stratus:Monitoring: how notifications leave, and for how long they are tried.</summary>
public sealed class MonitoringOptions
{
    public SmtpOptions Smtp { get; set; } = new();

    /// <summary>How often the dispatcher looks for notifications due.</summary>
    public TimeSpan DispatchInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The wait after a first failed attempt; doubled after each further one, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A notification not delivered this long after its record changed is given up (failed, in the log).</summary>
    public TimeSpan DeliveryDeadline { get; set; } = TimeSpan.FromHours(1);

    /// <summary>One attempt (an SMTP conversation, a webhook's answer) ends after this.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(15);

    public IEnumerable<string> Errors()
    {
        if (DispatchInterval <= TimeSpan.Zero || FirstRetryDelay <= TimeSpan.Zero || MaxRetryDelay < FirstRetryDelay
            || DeliveryDeadline <= TimeSpan.Zero || AttemptTimeout <= TimeSpan.Zero)
        {
            yield return "DispatchInterval, FirstRetryDelay, DeliveryDeadline and AttemptTimeout must be positive and MaxRetryDelay at least FirstRetryDelay";
        }

        if (Smtp.Port is < 1 or > 65535)
        {
            yield return "Smtp:Port must be between 1 and 65535";
        }

        if (!string.IsNullOrWhiteSpace(Smtp.Host) && !MimeKit.MailboxAddress.TryParse(Smtp.From, out _))
        {
            yield return "Smtp:From must be an e-mail address when Smtp:Host is set";
        }
    }
}

/// <summary>Stratus:Monitoring:Smtp; no Host: e-mail notifications fail with a message saying so.</summary>
public sealed class SmtpOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    public string From { get; set; } = "stratus@localhost";

    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// <summary>None, Auto, SslOnConnect, StartTls or StartTlsWhenAvailable (MailKit's SecureSocketOptions).</summary>
    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.Auto;
}
