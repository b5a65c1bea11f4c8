using Stratus.Platform.Messaging;

namespace Stratus.Compute;

[MessageName("compute.hostDown.v1")]
public sealed record HostDown(Guid HostId, string Name, string Region, string Zone, DateTimeOffset LastHeartbeatAt, DateTimeOffset DetectedAt);

[MessageName("compute.vmReported.v1")]
public sealed record VmReported(Guid VmId, Guid HostId, string State, bool Ready, long Generation, string? Detail, DateTimeOffset ReportedAt);
