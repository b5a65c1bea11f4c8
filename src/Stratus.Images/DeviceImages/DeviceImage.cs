namespace Stratus.Images.DeviceImages;

public enum DeviceImageStatus
{
    Pending,
    Ready,
    Failed,

    /// <summary>A ready image being deleted: no new policy may name it while its usage is checked (issue 16).</summary>
    Deleting,
}

/// <summary>
/// A tenant's custom image (Graph's cloudPcDeviceImage). Pending covers two stages: waiting for its content
/// (no <see cref="UploadFile"/>), then validation and import (an upload file, one durable message).
/// </summary>
public sealed class DeviceImage
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public required string DisplayName { get; init; }

    public required string Version { get; init; }

    public DeviceImageStatus Status { get; set; }

    public string? ErrorCode { get; set; }

    public string? StatusDetails { get; set; }

    /// <summary>Where the content came from: the sha256 of the upload.</summary>
    public string? SourceImageResourceId { get; set; }

    /// <summary>The name of the complete upload in the store's uploads folder, until validation is done with it.</summary>
    public string? UploadFile { get; set; }

    /// <summary>The format the upload had (qcow2 or raw), once validated.</summary>
    public string? SourceFormat { get; set; }

    /// <summary>How far its import job got, 0 to 100; null before the content arrives.</summary>
    public int? PercentComplete { get; set; }

    /// <summary>The virtual size of the disk, once validated.</summary>
    public long? VirtualSizeBytes { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset LastModifiedAt { get; set; }

    /// <summary>Changed by every write, so that two uploads (or an upload and a delete) cannot both win.</summary>
    public Guid ConcurrencyStamp { get; set; }

    /// <summary>The folder name of the image in every region's store, which is also the imageId a VM names.</summary>
    public string ImageId => Id.ToString();
}
