namespace Stratus.Portal.Admin.CloudPcsPage;

/// <summary>The Cloud PCs page's actions: which a Cloud PC's state allows (as the API decides them), and their names.</summary>
public static class CloudPcActionText
{
    /// <summary>The actions that the Cloud PC's status allows, as the API decides them; others are not offered.</summary>
    public static IEnumerable<(string Action, string Label)> ActionsFor(CloudPcItem pc)
    {
        ArgumentNullException.ThrowIfNull(pc);
        switch (pc.DisasterRecoveryCapability?.CapabilityType)
        {
            case "failover":
                yield return ("disasterRecoveryFailover", "Failover");
                break;
            case "failback":
                yield return ("disasterRecoveryFailback", "Failback");
                break;
        }

        switch (pc.Status)
        {
            case "provisioned":
                yield return ("reboot", "Restart");
                yield return pc.PowerState == "poweredOff" ? ("powerOn", "Power on") : ("powerOff", "Power off");
                yield return ("rename", "Rename");
                yield return ("resize", "Resize");
                yield return ("reprovision", "Reprovision");
                yield return ("restorePoints", "Restore points");
                break;
            case "inGracePeriod":
                yield return ("rename", "Rename");
                yield return ("endGracePeriod", "End grace period");
                yield return ("restorePoints", "Restore points");
                break;
            case "restoring":
                yield return ("restorePoints", "Restore points");
                break;
            case "failed":
                yield return ("retry", "Retry");
                yield return ("reprovision", "Reprovision");
                break;
        }
    }

    /// <summary>The action as the toasts name it ("Restart: accepted for 3 Cloud PCs.").</summary>
    public static string Verb(string action) => action switch
    {
        "reboot" => "Restart",
        "powerOn" => "Power on",
        "powerOff" => "Power off",
        "reprovision" => "Reprovision",
        "retry" => "Retry",
        "endGracePeriod" => "End grace period",
        "disasterRecoveryFailover" => "Failover",
        "disasterRecoveryFailback" => "Failback",
        _ => action,
    };
}
