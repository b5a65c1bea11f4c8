namespace Stratus.Images.Replication;

public enum FileReplicaState
{
    /// <summary>Seen in the source, not (or no longer) in the target as it is in the source.</summary>
    Pending,

    /// <summary>The target holds the source's bytes, checked by sha256 after the copy.</summary>
    Replicated,

    /// <summary>The last copy failed; retried with backoff from <see cref="FileReplica.NextAttemptAt"/>.</summary>
    Failed,

    /// <summary>Gone from the source; the replica goes once nothing uses it (an image's disk may back VMs of the other region).</summary>
    Deleting,
}

/// <summary>One file of a region's store and its replica in another region's (table images.file_replicas).</summary>
public sealed class FileReplica
{
    public Guid Id { get; set; }

    public required string SourceRegion { get; set; }

    public required string TargetRegion { get; set; }

    /// <summary>The file set (images, exports).</summary>
    public required string Set { get; set; }

    /// <summary>Relative to the set's folder, with '/' separators.</summary>
    public required string Path { get; set; }

    /// <summary>The image the file belongs to (images set: gallery/ID, custom/ID, regions/REGION/ID), else null.</summary>
    public string? ImageId { get; set; }

    /// <summary>The tenant of a custom image's file; null for the platform's own files (gallery, exports).</summary>
    public Guid? TenantId { get; set; }

    public FileReplicaState State { get; set; }

    /// <summary>The source's size and last write when last seen: a change of either means a new copy.</summary>
    public long Size { get; set; }

    public DateTimeOffset SourceModifiedAt { get; set; }

    /// <summary>The replica's sha256 (lower-case hex), equal to the source's when it was copied.</summary>
    public string? Sha256 { get; set; }

    public DateTimeOffset DetectedAt { get; set; }

    public DateTimeOffset? ReplicatedAt { get; set; }

    public DateTimeOffset? VerifiedAt { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset? NextAttemptAt { get; set; }

    public string? LastError { get; set; }

    /// <summary>Not yet in the target as it is in the source: what a loss of the source region now would lose.</summary>
    public bool Unreplicated => State is FileReplicaState.Pending or FileReplicaState.Failed;
}
