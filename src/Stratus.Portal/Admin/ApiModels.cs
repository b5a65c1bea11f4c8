using System.Text.Json;

namespace Stratus.Portal.Admin;

// The shapes the admin portal reads from the public API (Microsoft Graph's names), only the fields it shows.

public sealed record Page<T>(List<T> Value, int TotalCount);

public sealed record UserItem(Guid Id, string UserPrincipalName, string DisplayName, bool AccountEnabled, DateTimeOffset CreatedDateTime, string? CreationType, bool OnPremisesSyncEnabled);

public sealed record GroupItem(Guid Id, string DisplayName, string? Description, DateTimeOffset CreatedDateTime, bool OnPremisesSyncEnabled);

public sealed record PlanItem(Guid Id, string DisplayName, int VCpuCount, int RamInGB, int StorageInGB);

public sealed record PrepaidUnits(int Enabled);

public sealed record SkuItem(string Id, Guid SkuId, string SkuPartNumber, PlanItem ServicePlan, PrepaidUnits PrepaidUnits, int ConsumedUnits);

public sealed record LicenseDetail(Guid SkuId, string? SkuPartNumber);

public sealed record TenantItem(Guid Id, string DisplayName, string Domain, string State, DateTimeOffset CreatedDateTime);

public sealed record AssignmentTargetItem(Guid GroupId, Guid ServicePlanId);

public sealed record AssignmentItem(Guid Id, AssignmentTargetItem Target, DateTimeOffset AssignedDateTime);

public sealed record PolicyItem(
    Guid Id, string DisplayName, string Description, string ImageId, string ImageType, string ImageDisplayName, List<string> RegionNames,
    bool AutomaticRegion, string CloudPcNamingTemplate, bool LocalAdminEnabled, int GracePeriodInHours, DateTimeOffset LastModifiedDateTime,
    List<AssignmentItem> Assignments);

public sealed record StatusDetailItem(string Code, string Message, bool Retryable);

public sealed record CloudPcItem(
    Guid Id, string DisplayName, string ManagedDeviceName, string UserPrincipalName, Guid ProvisioningPolicyId, string ProvisioningPolicyName,
    Guid ServicePlanId, string ServicePlanName, string ImageDisplayName, string Status, StatusDetailItem? StatusDetail, string PowerState,
    DateTimeOffset? GracePeriodEndDateTime, DateTimeOffset LastModifiedDateTime, DateTimeOffset CreatedDateTime, string RegionName, string? HostName,
    int VCpuCount, int RamInGB, int StorageInGB, Guid? ActiveOperationId,
    DisasterRecoveryCapabilityItem? DisasterRecoveryCapability = null, DisasterRecoveryStatusItem? DisasterRecoveryStatus = null,
    DiskCopyWarningItem? DiskCopyWarning = null);

/// <summary>Graph's cloudPcDisasterRecoveryCapability: none, failover or failback, and the two regions.</summary>
public sealed record DisasterRecoveryCapabilityItem(string CapabilityType, string PrimaryRegion, string? SecondaryRegion);

/// <summary>notFailedOver, failingOver, failedOver or failingBack; the region the Cloud PC runs in; since when.</summary>
public sealed record DisasterRecoveryStatusItem(string Status, string ActiveRegion, DateTimeOffset? ChangedDateTime, string? ChangedBy);

/// <summary>Compute's word that the copies a failover would start from are late.</summary>
public sealed record DiskCopyWarningItem(string Region, string Message, DateTimeOffset Since);

/// <summary>A row of GET /api/v1/reports/crossRegionDisasterRecovery and of GET /api/v1/cloudPCs/disasterRecovery.</summary>
public sealed record DisasterRecoveryReportItem(
    Guid CloudPcId, string ManagedDeviceName, string UserPrincipalName, string PrimaryRegion, string? BackupRegion, string DisasterRecoveryType,
    string DisasterRecoveryStatus, string Health, DateTimeOffset? LatestCopyDateTime, int? RecoveryPointAgeInSeconds, string? Warning);

public sealed record OperationItem(Guid Id, Guid CloudPcId, string Action, string Status, string? Detail, DateTimeOffset CreatedDateTime, DateTimeOffset? CompletedDateTime);

public sealed record BulkItemResult(Guid CloudPcId, int Status, Guid? OperationId, string? Error);

public sealed record ReplicaItem(string Region, string Status);

public sealed record GalleryImageItem(string Id, string DisplayName, string OfferDisplayName, string PublisherDisplayName, string SkuDisplayName, int SizeInGB, string Status, string OsVersionNumber, List<ReplicaItem> Replicas);

public sealed record DeviceImageItem(string Id, string DisplayName, string Version, string Status, string? ErrorCode, string? StatusDetails, DateTimeOffset LastModifiedDateTime);

public sealed record CapacityItem(int VCpus, int MemoryMiB, int DiskGiB);

public sealed record HostItem(Guid Id, string Name, string Region, string Zone, string State, string Driver, string Accelerator, CapacityItem Capacity, CapacityItem Allocated, int VmCount, DateTimeOffset? LastHeartbeatDateTime, string? AgentVersion, int UnmanagedVmCount);

/// <summary>A VM a host keeps stopped that compute does not manage there (GET /api/v1/hosts/{id}/unmanagedVms).</summary>
public sealed record UnmanagedVmItem(Guid Id, Guid HostId, string State, string ImageId, int VCpuCount, int MemoryMiB, int DiskGiB,
    Guid? ManagedOnHostId, string? ManagedOnHostName, Guid? TenantId, bool Deleted, DateTimeOffset FirstReportedDateTime);

public sealed record ZoneItem(string Name, int ReadyHosts);

public sealed record RegionItem(string Name, string DisplayName, List<ZoneItem> Zones, string Health, int FreeVCpus, int FreeMemoryMiB);

public sealed record AuditActorItem(Guid? Id, string UserPrincipalName, string? IpAddress);

public sealed record AuditEventItem(Guid Id, string DisplayName, string Category, string Activity, string ActivityType, string ActivityResult, DateTimeOffset ActivityDateTime, AuditActorItem Actor, JsonElement Resources);
public sealed record GalleryList(List<GalleryImageItem> Value);

public sealed record RestorePointSettingItem(string FrequencyType, bool UserRestoreEnabled);

public sealed record UserSettingTargetItem(Guid GroupId);

public sealed record UserSettingAssignmentItem(Guid Id, UserSettingTargetItem Target, int Priority, DateTimeOffset AssignedDateTime);

public sealed record UserSettingItem(
    Guid Id, string DisplayName, bool LocalAdminEnabled, bool ResetEnabled, RestorePointSettingItem RestorePointSetting,
    DateTimeOffset CreatedDateTime, DateTimeOffset LastModifiedDateTime, List<UserSettingAssignmentItem> Assignments);

/// <summary>A restore point of a Cloud PC (Graph's cloudPcSnapshot), newest first in the API's list.</summary>
public sealed record SnapshotItem(
    Guid Id, Guid CloudPcId, string SnapshotType, string Retention, string Status, DateTimeOffset CreatedDateTime,
    DateTimeOffset? ExpirationDateTime, DateTimeOffset? LastRestoredDateTime, string? ExportedTo, string? FailureReason);

public sealed record SnapshotList(List<SnapshotItem> Value);

/// <summary>Words a person reads for restore points and user settings.</summary>
public static class RestoreText
{
    public static readonly string[] Frequencies = ["fourHours", "sixHours", "twelveHours", "sixteenHours", "twentyFourHours"];

    public static string Frequency(string frequencyType) => frequencyType switch
    {
        "fourHours" => "Every 4 hours",
        "sixHours" => "Every 6 hours",
        "twelveHours" or "default" => "Every 12 hours",
        "sixteenHours" => "Every 16 hours",
        "twentyFourHours" => "Every 24 hours",
        _ => frequencyType,
    };

    public static string Type(string snapshotType) => snapshotType == "manual" ? "Manual" : "Automatic";

    public static string Retention(string retention) => retention switch
    {
        "shortTerm" => "Short term",
        "longTerm" => "Long term",
        "manual" => "Manual",
        "pending" => "Decided when ready",
        _ => retention,
    };
}
