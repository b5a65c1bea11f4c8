using System.Globalization;

namespace Stratus.Portal.Admin;

/// <summary>Disaster recovery's API values in the words the portal shows, shared by the Cloud PCs page and the report.</summary>
public static class DisasterRecoveryText
{
    public static string Status(string status) => status switch
    {
        "notFailedOver" => "Primary",
        "failingOver" => "Failing over",
        "failedOver" => "Failed over",
        "failingBack" => "Failing back",
        _ => status,
    };

    /// <summary>The badge tone (admin.css stratus-badge-TONE): running on the backup region is a state to end, hence warn.</summary>
    public static string Tone(string status) => status switch
    {
        "notFailedOver" => "good",
        "failingOver" or "failingBack" => "busy",
        "failedOver" => "warn",
        _ => "neutral",
    };

    public static string HealthTone(string health) => health switch
    {
        "healthy" => "good",
        "stale" => "warn",
        "failed" => "bad",
        _ => "neutral",
    };

    public static string Type(string type) => type switch
    {
        "crossRegion" => "Cross-region",
        "notConfigured" => "Not configured",
        _ => type,
    };

    public static string Health(string health) => health switch
    {
        "healthy" => "Healthy",
        "stale" => "Late",
        "failed" => "Failing",
        "none" => "No copy yet",
        "unknown" => "Unknown",
        _ => health,
    };

    /// <summary>Times in UTC, named as such: an admin compares them with hosts' logs and other regions.</summary>
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("d MMM yyyy HH:mm", CultureInfo.InvariantCulture) + " UTC";

    /// <summary>The recovery point's age (the RPO now) in the largest whole unit that reads well.</summary>
    public static string Age(int seconds) =>
        seconds < 60 ? $"{seconds} s" : seconds < 3600 ? $"{seconds / 60} min" : seconds < 172_800 ? $"{seconds / 3600} h {seconds % 3600 / 60} min" : $"{seconds / 86_400} days";
}
