namespace Stratus.Diagnostics.Troubleshooting;

/// <summary>
/// Each check of a Cloud PC judged from the answers of the services that own the facts: what was found, and what a
/// person can do about it. Pure functions of the answers and the time, so each verdict is tested on its own.
/// </summary>
public static class CloudPcChecks
{
    public const string CloudPcRecord = "cloudPcRecord";
    public const string HostReporting = "hostReporting";
    public const string VmRunning = "vmRunning";
    public const string NetworkConnection = "networkConnection";
    public const string DiskCopies = "diskCopies";
    public const string RestorePoints = "restorePoints";
    public const string LastConsoleSession = "lastConsoleSession";
    public const string HostDiskSpace = "hostDiskSpace";

    /// <summary>A restore point older than this is worth a warning: the default schedule takes one every 12 hours.</summary>
    public static readonly TimeSpan RestorePointAgeWarning = TimeSpan.FromHours(26);

    public static SuggestedAction Restart(Guid cloudPcId) => new("restart", "POST", $"/api/v1/cloudPCs/{cloudPcId}/reboot");

    public static TroubleshootCheck Record(CloudPcInfo pc)
    {
        var name = pc.ManagedDeviceName;
        return pc.Status switch
        {
            "provisioned" or "inGracePeriod" when pc.PowerState == "poweredOff" => TroubleshootCheck.Warning(CloudPcRecord, "cloud-pc-powered-off",
                $"{name} is {pc.Status} but powered off: nobody can connect to it.", "Power it on (POST /api/v1/cloudPCs/{id}/powerOn, or 'stratus cloudpc power-on').")
                with { SuggestedAction = new SuggestedAction("powerOn", "POST", $"/api/v1/cloudPCs/{pc.Id}/powerOn") },
            "provisioned" => TroubleshootCheck.Passed(CloudPcRecord, $"{name} is provisioned and {pc.PowerState}."),
            "inGracePeriod" => TroubleshootCheck.Warning(CloudPcRecord, "cloud-pc-in-grace-period",
                $"{name} is in its grace period: its user lost the license or assignment and it will be deprovisioned.",
                "Give the user back the license or the policy assignment to keep it, or end the grace period if it is meant to go."),
            "failed" => TroubleshootCheck.Failed(CloudPcRecord, pc.StatusDetail?.Code ?? "cloud-pc-failed",
                $"{name} failed: {pc.StatusDetail?.Message ?? "provisioning gave no reason"}.",
                pc.StatusDetail?.Retryable == true ? "The failure may be passing: retry it (POST /api/v1/cloudPCs/{id}/retry)." : "Fix the cause named above, then retry or reprovision it."),
            _ => TroubleshootCheck.Warning(CloudPcRecord, "cloud-pc-" + pc.Status,
                $"{name} is {pc.Status}{(pc.ActiveOperationId is { } op ? $" (operation {op} under way)" : "")}: it is not usable until that ends.",
                "Wait for the operation to end; if it does not within several minutes, troubleshoot again and look at the operation's status."),
        };
    }

    public static TroubleshootCheck Host(CloudPcInfo pc, Answer<VmInfo> vm, Answer<RegionHostsInfo>? hosts)
    {
        if (vm.Value is not { } v)
        {
            return NoVm(HostReporting, pc, vm);
        }

        if (hosts?.Value is not { } region)
        {
            return hosts is null ? TroubleshootCheck.Skipped(HostReporting, "The VM's region is unknown.") : Unanswered(HostReporting, "its host", hosts);
        }

        var host = region.Hosts?.FirstOrDefault(h => h.HostId == v.HostId);
        return host?.State switch
        {
            null => TroubleshootCheck.Failed(HostReporting, "host-unknown", $"The VM's host {v.HostId} is not among the hosts of {region.Region}: it was removed.",
                "Ask the platform operator: the VM's record names a host compute no longer has."),
            "ready" => TroubleshootCheck.Passed(HostReporting, $"Host {host.Name} is up and sends its heartbeats."),
            "draining" => TroubleshootCheck.Warning(HostReporting, "host-draining", $"Host {host.Name} is draining: it runs its VMs but takes no new ones.",
                "Nothing to do for this Cloud PC; the platform operator drained the host, probably for maintenance."),
            "down" => TroubleshootCheck.Failed(HostReporting, "host-down", $"Host {host.Name} has missed its heartbeats: its agent or the machine is down or unreachable.",
                "Ask the platform operator to bring the host back (its agent, its network). A host that stays down has its Cloud PCs recovered on another host of the region from their disk copies."),
            _ => TroubleshootCheck.Warning(HostReporting, "host-" + host.State, $"Host {host.Name} is {host.State}.", "Ask the platform operator about the host's state."),
        };
    }

    public static TroubleshootCheck Vm(CloudPcInfo pc, Answer<VmInfo> answer)
    {
        if (answer.Value is not { } vm)
        {
            return NoVm(VmRunning, pc, answer);
        }

        var restart = Restart(pc.Id);
        var detail = vm.Detail is { Length: > 0 } d ? $" The host agent's last error for it: {d}" : "";
        var since = vm.ReportedDateTime is { } at ? $" (reported {at:u})" : "";
        if (vm.DeleteRequested)
        {
            return TroubleshootCheck.Warning(VmRunning, "vm-deleting", "The VM is being deleted.", "Wait for its Cloud PC's operation to end.");
        }

        if (vm.DesiredPower == "stopped")
        {
            return vm.State is "stopped" or "crashed"
                ? TroubleshootCheck.Passed(VmRunning, "The VM is off, as asked (the Cloud PC is powered off).")
                : TroubleshootCheck.Warning(VmRunning, "vm-stopping", $"The VM is asked to be off and is {vm.State ?? "not reported yet"}.", "Wait a minute for its host to turn it off.");
        }

        return vm.State switch
        {
            "running" when vm.Ready => TroubleshootCheck.Passed(VmRunning, $"The VM runs and its guest has booted{since}."),
            "running" => TroubleshootCheck.Warning(VmRunning, "vm-not-ready",
                $"The VM's process runs but its guest has not shown it booted (no ready marker on its serial console){since}.{detail}",
                "It may still be booting: troubleshoot again in a minute. If it stays so, restart the Cloud PC.") with { SuggestedAction = restart },
            null => TroubleshootCheck.Warning(VmRunning, "vm-not-reported", "The VM's host has not reported it yet.",
                "Wait a minute: a VM just placed is created and booted first. If it stays so, look at the host check."),
            "crashed" => TroubleshootCheck.Failed(VmRunning, "vm-crashed",
                $"The VM is not running: its QEMU process ended without being stopped (killed, out of memory, or QEMU crashed){since}.{detail}",
                "Restart the Cloud PC (its host agent also starts it again on its next pass). If it crashes again, the host agent's log names the cause.", restart),
            "unresponsive" => TroubleshootCheck.Failed(VmRunning, "vm-unresponsive",
                $"The VM's QEMU process runs but does not answer on its control channel (QMP){since}.{detail}",
                "Restart the Cloud PC; if it hangs again, ask the platform operator to look at the host's load and the VM's logs.", restart),
            "stopped" => TroubleshootCheck.Failed(VmRunning, "vm-stopped",
                $"The VM is stopped although its Cloud PC should run{since}.{detail}",
                "Restart the Cloud PC. If it does not start, the error above says why (a disk or image problem on the host).", restart),
            "fenced" => TroubleshootCheck.Failed(VmRunning, "vm-fenced",
                $"The VM is fenced on its host: it was recovered elsewhere and this copy is kept stopped{since}.",
                "Nothing to restart here: wait for its recovery to finish, then troubleshoot again."),
            "missing" => TroubleshootCheck.Failed(VmRunning, "vm-missing",
                $"The VM's disk is gone from its host{since}: it is not made again empty.",
                "Restore the Cloud PC from a restore point, or ask the platform operator to recover it from its disk copy."),
            _ => TroubleshootCheck.Failed(VmRunning, "vm-" + vm.State, $"The VM is {vm.State}{since}.{detail}", "Restart the Cloud PC.", restart),
        };
    }

    public static TroubleshootCheck Network(CloudPcInfo pc, Answer<ConnectionInfo>? answer)
    {
        if (pc.OnPremisesConnectionId is null || answer is null)
        {
            return TroubleshootCheck.Skipped(NetworkConnection, "The Cloud PC is on the hosted network: it has no network connection of the tenant's to check.");
        }

        if (answer.Value is not { } connection)
        {
            return answer.StatusCode == 404
                ? TroubleshootCheck.Failed(NetworkConnection, "network-connection-gone",
                    $"The Cloud PC's network connection {pc.OnPremisesConnectionId} no longer exists.", "Move the Cloud PC to another connection (or the hosted network) with its policy.")
                : Unanswered(NetworkConnection, "its network connection", answer);
        }

        var failing = connection.HealthCheckStatusDetail?.HealthChecks?.Where(c => c.Status is "failed" or "warning").ToList() ?? [];
        var findings = string.Join(" ", failing.Select(c => $"{c.DisplayName}: {c.Status}{(c.AdditionalDetails is { Length: > 0 } a ? $" ({a})" : "")}."));
        var advice = string.Join(" ", failing.Select(c => c.RecommendedAction).OfType<string>().Distinct());
        var when = connection.HealthCheckStatusDetail is { } run ? $" (checked {run.EndDateTime:u})" : "";
        return connection.HealthCheckStatus switch
        {
            "passed" => TroubleshootCheck.Passed(NetworkConnection, $"Network connection {connection.DisplayName} passed its checks{when}."),
            "failed" => TroubleshootCheck.Failed(NetworkConnection, "network-connection-failed",
                $"Network connection {connection.DisplayName} failed its checks{when}. {findings}".TrimEnd(),
                advice.Length > 0 ? advice : "Open the connection's latest check run and fix what it names, then run its checks again."),
            "warning" => TroubleshootCheck.Warning(NetworkConnection, "network-connection-warning",
                $"Network connection {connection.DisplayName} has warnings{when}. {findings}".TrimEnd(),
                advice.Length > 0 ? advice : "Open the connection's latest check run for details."),
            _ => TroubleshootCheck.Warning(NetworkConnection, "network-connection-" + connection.HealthCheckStatus,
                $"Network connection {connection.DisplayName}'s checks are {connection.HealthCheckStatus}: no result yet.", "Troubleshoot again once its checks have run."),
        };
    }

    public static TroubleshootCheck Copies(CloudPcInfo pc, Answer<VmInfo> answer, DateTimeOffset now)
    {
        if (answer.Value is not { } vm)
        {
            return NoVm(DiskCopies, pc, answer);
        }

        if (vm.CopyPolicy is { Off: true })
        {
            return TroubleshootCheck.Skipped(DiskCopies, "Disk copies are off for this Cloud PC: a lost host would lose its disk.");
        }

        var copies = vm.DiskCopies ?? [];
        if (copies.Count == 0)
        {
            return TroubleshootCheck.Skipped(DiskCopies, "The VM's region has no copy store: its disk is not copied off its host.");
        }

        string Age(DiskCopyInfo c) => c.LatestCopyAt is { } at ? $"latest {Ago(now - at)} ago" : "none yet";
        var summary = string.Join("; ", copies.Select(c => $"{c.Region}: {c.Status}, {Age(c)}{(c.StatusReason is { Length: > 0 } r ? $" ({r})" : "")}"));
        if (copies.Any(c => c.Status == "stale"))
        {
            return TroubleshootCheck.Failed(DiskCopies, "disk-copy-stale", $"The disk's copies are late: {summary}.",
                "A late copy means a lost host would lose recent work: fix the reason named (the host, the copy store's space or access).");
        }

        if (copies.Any(c => c.Status == "failed"))
        {
            var error = copies.First(c => c.Status == "failed").LastError;
            return TroubleshootCheck.Warning(DiskCopies, "disk-copy-failed", $"The last copy failed ({error}); the copies are still on time: {summary}.",
                "It is tried again at the next interval; if it keeps failing, ask the platform operator about the copy store.");
        }

        return copies.All(c => c.Status == "healthy")
            ? TroubleshootCheck.Passed(DiskCopies, $"The disk's copies are on time: {summary}.")
            : TroubleshootCheck.Warning(DiskCopies, "disk-copy-none", $"The disk has no copy yet: {summary}.", "The first copy comes within one copy interval of the VM's start.");
    }

    public static TroubleshootCheck Points(Answer<RestorePointList> answer, DateTimeOffset now)
    {
        if (answer.Value is not { } list)
        {
            return Unanswered(RestorePoints, "its restore points", answer);
        }

        var points = (list.Value ?? []).OrderByDescending(p => p.CreatedDateTime).ToList();
        var latest = points.FirstOrDefault(p => p.Status == "ready");
        if (points.FirstOrDefault() is { Status: "failed" } failed)
        {
            return TroubleshootCheck.Warning(RestorePoints, "restore-point-failed", $"The latest restore point failed: {failed.FailureReason ?? "no reason given"}.",
                "The next scheduled one is tried at its time; take one now (createSnapshot) to be sure the Cloud PC can be restored.");
        }

        if (latest is null)
        {
            return TroubleshootCheck.Warning(RestorePoints, "restore-point-none", "The Cloud PC has no restore point yet.",
                "Take one now (POST /api/v1/cloudPCs/{id}/createSnapshot) or check the user setting's restore point frequency.");
        }

        var age = now - latest.CreatedDateTime;
        return age > RestorePointAgeWarning
            ? TroubleshootCheck.Warning(RestorePoints, "restore-point-old", $"The latest restore point is {Ago(age)} old.",
                "Check the user setting's restore point frequency, or take one now (createSnapshot).")
            : TroubleshootCheck.Passed(RestorePoints, $"The latest restore point is {Ago(age)} old.");
    }

    public static TroubleshootCheck ConsoleSession() => TroubleshootCheck.Skipped(LastConsoleSession,
        "The gateway has no API for a Cloud PC's console sessions yet: the last connection's outcome cannot be read.");

    public static TroubleshootCheck DiskSpace() => TroubleshootCheck.Skipped(HostDiskSpace,
        "The host agent does not report its disk space yet: the host's free space cannot be checked.");

    /// <summary>
    /// Compute has no VM for the Cloud PC: expected while it is being provisioned (skipped), a fault once it is
    /// provisioned (failed); no answer at all is <see cref="Unanswered"/>.
    /// </summary>
    private static TroubleshootCheck NoVm(string name, CloudPcInfo pc, Answer<VmInfo> answer)
    {
        if (answer.StatusCode != 404)
        {
            return Unanswered(name, "its VM", answer);
        }

        return pc.Status is "provisioned" or "inGracePeriod"
            ? TroubleshootCheck.Failed(name, "vm-unknown", $"Compute has no VM {pc.VmId} for {pc.ManagedDeviceName}, which is {pc.Status}.",
                "Reprovision the Cloud PC, or restore it from a restore point; tell the platform operator, as its VM record is gone.")
            : TroubleshootCheck.Skipped(name, $"{pc.ManagedDeviceName} is {pc.Status} and has no VM yet.");
    }

    /// <summary>No answer is never a pass: failed when the owner did not answer, with the reason.</summary>
    private static TroubleshootCheck Unanswered<T>(string name, string what, Answer<T> answer) where T : class =>
        TroubleshootCheck.Failed(name, "not-answered", $"Could not read {what}: {answer.Unavailable}.",
            "Troubleshoot again in a moment; if it persists, the service named is down: ask the platform operator.");

    private static string Ago(TimeSpan age) => age.TotalMinutes < 1 ? $"{Math.Max(0, (int)age.TotalSeconds)} s"
        : age.TotalHours < 1 ? $"{(int)age.TotalMinutes} min" : age.TotalDays < 2 ? $"{age.TotalHours:0.#} h" : $"{age.TotalDays:0.#} days";
}
