namespace Stratus.Provisioning.RestorePoints;

/// <summary>Graph's cloudPcSnapshotType.</summary>
public enum RestorePointType
{
    Automatic,
    Manual,
}

/// <summary>Which retention rule keeps a point: the last 10 short-term, 4 long-term one week apart, 1 manual.</summary>
public enum RestorePointRetention
{
    /// <summary>Not decided yet: a point is classified when it is ready.</summary>
    Pending,
    ShortTerm,
    LongTerm,
    Manual,
}

public enum RestorePointStatus
{
    Creating,
    Ready,
    Failed,
    Deleting,
}

/// <summary>
/// A point-in-time copy of a Cloud PC's disk: an internal qcow2 snapshot of its current VM's disk, named
/// <see cref="SnapshotName"/> on the host. Its id is also the id of the compute operation that takes it, so a
/// redelivered or retried request takes it once.
/// </summary>
public sealed class RestorePoint
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public Guid CloudPcId { get; init; }

    /// <summary>The VM whose disk holds it: a reprovision makes a new VM (and disk), and the old points go with the old disk.</summary>
    public Guid VmId { get; init; }

    public RestorePointType Type { get; init; }

    public RestorePointRetention Retention { get; set; }

    public RestorePointStatus Status { get; set; }

    /// <summary>The schedule slot an automatic point was taken for; unique per Cloud PC, so no slot is taken twice.</summary>
    public DateTimeOffset? ScheduledFor { get; init; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset? LastRestoredAt { get; set; }

    /// <summary>The compute operation that deletes it, once retention or a reprovision lets it go.</summary>
    public Guid? DeleteOperationId { get; set; }

    /// <summary>Where its last export was written (a path on the host that ran the export).</summary>
    public string? ExportedTo { get; set; }

    public string? FailureReason { get; set; }

    /// <summary>Optimistic concurrency: a restore that starts and retention that deletes the point cannot both win.</summary>
    public Guid Version { get; set; }

    public string SnapshotName => SnapshotNameOf(Id);

    public static string SnapshotNameOf(Guid id) => $"rp-{id:N}";
}
