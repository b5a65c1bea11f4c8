using Stratus.Platform.Messaging;

namespace Stratus.Monitoring;

// The monitoring service's own copies of the events it turns into alerts: services share names and JSON shapes,
// never assemblies. Each carries only the fields an alert needs; the rest of the publisher's JSON is ignored.

[MessageName("provisioning.cloudPcStatusChanged.v1")]
public sealed record CloudPcStatusChanged(Guid TenantId, Guid CloudPcId, Guid UserId, string Status, string? StatusDetailCode, DateTimeOffset ChangedAt);

[MessageName("images.deviceImageFailed.v1")]
public sealed record DeviceImageFailed(Guid Id, Guid TenantId, string DisplayName, string Version, string ErrorCode, string StatusDetails, DateTimeOffset FailedAt);

[MessageName("images.deviceImageDeleted.v1")]
public sealed record DeviceImageDeleted(Guid Id, Guid TenantId, string DisplayName, string Version, DateTimeOffset DeletedAt);

/// <summary>Network's event: a connection's latest completed checks came out differently from the ones before.</summary>
[MessageName("network.connectionHealthChanged.v1")]
public sealed record NetworkConnectionHealthChanged(Guid TenantId, Guid ConnectionId, string DisplayName, string Status, DateTimeOffset OccurredAt);

[MessageName("compute.hostDown.v1")]
public sealed record HostDown(Guid HostId, string Name, string Region, string Zone, DateTimeOffset LastHeartbeatAt, DateTimeOffset DetectedAt);

[MessageName("compute.hostUp.v1")]
public sealed record HostUp(Guid HostId, string Name, string Region, string Zone, DateTimeOffset DetectedAt);

[MessageName("compute.diskCopyStale.v1")]
public sealed record DiskCopyStale(Guid VmId, Guid? TenantId, string Region, DateTimeOffset? LatestCopyAt, string? Reason);

[MessageName("compute.diskCopyHealthy.v1")]
public sealed record DiskCopyHealthy(Guid VmId, Guid? TenantId, string Region, DateTimeOffset? LatestCopyAt);
