using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Stratus.Platform.Http;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.Settings;

/// <summary>Graph's cloudPcDisasterRecoveryNetworkSetting for Microsoft-hosted networks: the backup region.</summary>
public sealed record DisasterRecoveryNetworkSettingView(string? RegionName);

/// <summary>Graph's cloudPcCrossRegionDisasterRecoverySetting.</summary>
public sealed record CrossRegionDisasterRecoverySettingView(
    string DisasterRecoveryType, DisasterRecoveryNetworkSettingView? DisasterRecoveryNetworkSetting, bool MaintainCrossRegionRestorePointEnabled,
    bool UserInitiatedDisasterRecoveryAllowed)
{
    public static CrossRegionDisasterRecoverySettingView From(UserSetting s) => new(
        Lifecycle.JsonNaming(s.DisasterRecoveryType.ToString()), s.BackupRegionName is { } region ? new DisasterRecoveryNetworkSettingView(region) : null,
        s.MaintainCrossRegionRestorePointEnabled, s.UserInitiatedDisasterRecoveryAllowed);

    public static readonly CrossRegionDisasterRecoverySettingView Default = new("notConfigured", null, false, false);
}

public sealed record CrossRegionDisasterRecoverySettingRequest(
    string? DisasterRecoveryType, DisasterRecoveryNetworkSettingView? DisasterRecoveryNetworkSetting, bool? MaintainCrossRegionRestorePointEnabled,
    bool? UserInitiatedDisasterRecoveryAllowed);

/// <summary>The disaster-recovery part of a user setting: its validation, and how a change reaches the Cloud PCs' VMs.</summary>
public static class DisasterRecoverySettings
{
    private static readonly Dictionary<string, DisasterRecoveryType> Types = new(StringComparer.Ordinal)
    {
        ["notConfigured"] = DisasterRecoveryType.NotConfigured,
        ["crossRegion"] = DisasterRecoveryType.CrossRegion,
    };

    /// <summary>
    /// Checks the request's disaster-recovery members against the setting as it will be (existing is null on create)
    /// and the regions compute knows. That the backup region is not the policy's region is checked after
    /// (SameRegionAsPolicyAsync), and again per Cloud PC at failover: a setting applies to Cloud PCs of several regions.
    /// </summary>
    public static void Validate(UserSettingRequest? request, UserSetting? existing, IConfiguration configuration, Validator validator)
    {
        ArgumentNullException.ThrowIfNull(validator);
        validator.Check(request?.DiskCopyFrequencyInMinutes is null or (>= 1 and <= 1440), "diskCopyFrequencyInMinutes",
            "'diskCopyFrequencyInMinutes' must be 1 to 1440 (a day).");
        var dr = request?.CrossRegionDisasterRecoverySetting;
        if (dr is null)
        {
            return;
        }

        if (dr.DisasterRecoveryType is { } name)
        {
            validator.Check(Types.ContainsKey(name), "crossRegionDisasterRecoverySetting.disasterRecoveryType",
                $"'disasterRecoveryType' must be one of {string.Join(", ", Types.Keys)}.");
        }

        var type = dr.DisasterRecoveryType is { } t ? Types.GetValueOrDefault(t) : existing?.DisasterRecoveryType ?? DisasterRecoveryType.NotConfigured;
        var region = dr.DisasterRecoveryNetworkSetting?.RegionName ?? existing?.BackupRegionName;
        if (type == DisasterRecoveryType.CrossRegion)
        {
            var regions = AssignmentEvaluator.Regions(configuration);
            validator.Check(region is not null && regions.Contains(region), "crossRegionDisasterRecoverySetting.disasterRecoveryNetworkSetting.regionName",
                $"crossRegion disaster recovery needs 'disasterRecoveryNetworkSetting.regionName', the backup region: one of {string.Join(", ", regions)}.");
            var withStore = AssignmentEvaluator.RegionsWithCopyStore(configuration);
            validator.Check(region is null || !regions.Contains(region) || withStore.Contains(region), "crossRegionDisasterRecoverySetting.disasterRecoveryNetworkSetting.regionName",
                $"Region {region} has no copy store, so no disk copies could be restored there; choose one that has: {(withStore.Count == 0 ? "none is configured (Stratus:Compute:Regions' CopyStore)" : string.Join(", ", withStore.Order(StringComparer.Ordinal)))}.");
        }
    }

    /// <summary>Applies the validated request's disaster-recovery members to the setting.</summary>
    public static void Apply(UserSettingRequest request, UserSetting setting)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(setting);
        setting.DiskCopyFrequencyInMinutes = request.DiskCopyFrequencyInMinutes ?? setting.DiskCopyFrequencyInMinutes;
        if (request.CrossRegionDisasterRecoverySetting is not { } dr)
        {
            return;
        }

        setting.DisasterRecoveryType = dr.DisasterRecoveryType is { } t ? Types[t] : setting.DisasterRecoveryType;
        setting.BackupRegionName = dr.DisasterRecoveryNetworkSetting?.RegionName ?? setting.BackupRegionName;
        setting.MaintainCrossRegionRestorePointEnabled = dr.MaintainCrossRegionRestorePointEnabled ?? setting.MaintainCrossRegionRestorePointEnabled;
        setting.UserInitiatedDisasterRecoveryAllowed = dr.UserInitiatedDisasterRecoveryAllowed ?? setting.UserInitiatedDisasterRecoveryAllowed;
    }

    /// <summary>
    /// The backup region must differ from the region of the policies the setting's users get Cloud PCs from: a
    /// backup in the same region protects from nothing. Checked against the tenant's policies with one region.
    /// </summary>
    public static async Task<string?> SameRegionAsPolicyAsync(ProvisioningDbContext db, Guid tenant, UserSetting setting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(setting);
        if (setting is not { DisasterRecoveryType: DisasterRecoveryType.CrossRegion, BackupRegionName: { } backup })
        {
            return null;
        }

        var policies = await db.Policies.AsNoTracking().Where(p => p.TenantId == tenant).ToListAsync(cancellationToken);
        return policies.FirstOrDefault(p => p.RegionNames.Count == 1 && p.RegionNames[0] == backup) is { } same
            ? $"The backup region {backup} is the region of provisioning policy {same.DisplayName}: choose another region for its Cloud PCs' copies."
            : null;
    }

    /// <summary>
    /// Tells compute each of the tenant's Cloud PCs' copy policy as the settings now give it (SetVmDiskCopies is
    /// idempotent: a VM whose policy did not change is told the same again). Like restore point frequencies, a
    /// changed setting applies to existing Cloud PCs at once, not only to new ones. With <paramref name="users"/>, only
    /// their Cloud PCs: a group membership that changed may have moved them under another setting.
    /// </summary>
    public static async Task PublishCopyPoliciesAsync(ProvisioningDbContext db, Lifecycle lifecycle, Guid tenant, IReadOnlyCollection<Guid>? users, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(lifecycle);
        var query = db.CloudPcs.Where(p => p.TenantId == tenant && p.Status != CloudPcStatus.NotProvisioned && p.Status != CloudPcStatus.Deprovisioning);
        if (users is not null)
        {
            query = query.Where(p => users.Contains(p.UserId));
        }

        var pcs = await query.ToListAsync(cancellationToken);
        foreach (var pc in pcs)
        {
            var backup = pc.BackupRegionName;
            db.Publish(new SetVmDiskCopies(pc.VmId, Lifecycle.CopyPolicy(pc, lifecycle.EffectiveSetting(pc))));
            if (pc.BackupRegionName != backup)
            {
                lifecycle.Touch(pc);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }
}
