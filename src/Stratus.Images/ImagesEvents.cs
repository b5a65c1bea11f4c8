using Stratus.Platform.Messaging;

namespace Stratus.Images;

/// <summary>A custom image passed validation and is in every region's store under <paramref name="ImageId"/>.</summary>
[MessageName("images.deviceImageReady.v1")]
public sealed record DeviceImageReady(Guid Id, Guid TenantId, string ImageId, string DisplayName, string Version, IReadOnlyList<string> Regions, DateTimeOffset ReadyAt);

/// <summary>A custom image was refused (or could not be imported); none of its files are left.</summary>
[MessageName("images.deviceImageFailed.v1")]
public sealed record DeviceImageFailed(Guid Id, Guid TenantId, string DisplayName, string Version, string ErrorCode, string StatusDetails, DateTimeOffset FailedAt);

[MessageName("images.deviceImageDeleted.v1")]
public sealed record DeviceImageDeleted(Guid Id, Guid TenantId, string DisplayName, string Version, DateTimeOffset DeletedAt);

/// <summary>
/// The images service's own work item: an upload is complete and waits for validation. Durable, so that a
/// restart in the middle of a validation does it again instead of leaving the image pending.
/// </summary>
[MessageName("images.deviceImageContentUploaded.v1")]
public sealed record DeviceImageContentUploaded(Guid Id, Guid TenantId, string UploadFile);
