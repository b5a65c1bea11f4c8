using Stratus.Monitoring.Notifications;

namespace Stratus.Monitoring.Tests;

/// <summary>The signature a receiver checks, and the backoff between attempts.</summary>
public sealed class SignatureTests
{
    [Fact]
    public void Sign_IsTheHexHmacSha256OfTheBody_UnderTheSecret()
    {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        Assert.Equal("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            WebhookSender.Sign("Jefe", "what do ya want for nothing?"u8.ToArray()));
    }

    [Fact]
    public void RetryDelay_Doubles_UpToTheMaximum()
    {
        var options = new MonitoringOptions { FirstRetryDelay = TimeSpan.FromSeconds(2), MaxRetryDelay = TimeSpan.FromSeconds(10) };
        Assert.Equal([2, 4, 8, 10, 10], Enumerable.Range(1, 5).Select(n => NotificationDispatcher.RetryDelay(options, n).TotalSeconds));
    }
}
