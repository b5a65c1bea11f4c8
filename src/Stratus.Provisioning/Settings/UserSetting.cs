namespace Stratus.Provisioning.Settings;

/// <summary>How often a Cloud PC gets an automatic restore point (Graph's restorePointFrequencyType).</summary>
public enum RestorePointFrequency
{
    FourHours = 4,
    SixHours = 6,
    TwelveHours = 12,
    SixteenHours = 16,
    TwentyFourHours = 24,
}

/// <summary>Graph's cloudPcDisasterRecoveryType values that Stratus offers.</summary>
public enum DisasterRecoveryType
{
    NotConfigured,
    CrossRegion,
}

/// <summary>
/// Graph's cloudPcUserSetting: what the users of the groups it is assigned to may do with their Cloud PCs, and
/// how often their restore points are taken. A user in several assigned groups gets the setting of the
/// assignment with the best (lowest) priority.
/// </summary>
public sealed class UserSetting
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public required string DisplayName { get; set; }

    public bool LocalAdminEnabled { get; set; }

    /// <summary>The user may reprovision their own Cloud PC.</summary>
    public bool ResetEnabled { get; set; }

    public RestorePointFrequency RestorePointFrequency { get; set; } = RestorePointFrequency.TwelveHours;

    /// <summary>The user may restore their own Cloud PC to one of its restore points.</summary>
    public bool UserRestoreEnabled { get; set; }

    /// <summary>Cross-region disaster recovery: copies of the disk also go to BackupRegionName, and the Cloud PC can fail over there.</summary>
    public DisasterRecoveryType DisasterRecoveryType { get; set; }

    /// <summary>The backup region (Graph's disasterRecoveryNetworkSetting.regionName); set when the type is crossRegion.</summary>
    public string? BackupRegionName { get; set; }

    public bool MaintainCrossRegionRestorePointEnabled { get; set; }

    /// <summary>The user may fail their own Cloud PC over (and back) from /me.</summary>
    public bool UserInitiatedDisasterRecoveryAllowed { get; set; }

    /// <summary>Stratus's own: how often the disk is copied to the copy stores (1 to 1440 minutes).</summary>
    public int DiskCopyFrequencyInMinutes { get; set; } = DefaultDiskCopyFrequencyInMinutes;

    public const int DefaultDiskCopyFrequencyInMinutes = 5;

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset LastModifiedAt { get; set; }
}

public sealed class UserSettingAssignment
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public Guid UserSettingId { get; init; }

    public Guid GroupId { get; init; }

    /// <summary>1 is the highest. Between equal priorities the earlier assignment wins, as with provisioning policies.</summary>
    public int Priority { get; init; }

    public DateTimeOffset AssignedAt { get; init; }
}
