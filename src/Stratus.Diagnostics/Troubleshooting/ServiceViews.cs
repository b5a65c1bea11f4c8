namespace Stratus.Diagnostics.Troubleshooting;

// Diagnostics' own copies of the parts of other services' public answers it reads: no shared contracts assembly.

/// <summary>Provisioning's GET /api/v1/cloudPCs/{id}.</summary>
public sealed record CloudPcInfo(
    Guid Id, string ManagedDeviceName, string Status, CloudPcStatusDetail? StatusDetail, string PowerState, string RegionName, string? HostName, Guid VmId,
    Guid? OnPremisesConnectionId, string? OnPremisesConnectionName, Guid? ActiveOperationId);

public sealed record CloudPcStatusDetail(string Code, string Message, bool Retryable);

/// <summary>Compute's GET /api/v1/vms/{id}: the desired state and the agent's last report of it.</summary>
public sealed record VmInfo(
    Guid Id, Guid HostId, string Region, string DesiredPower, bool DeleteRequested, string? State, bool Ready, string? Detail, DateTimeOffset? ReportedDateTime,
    IReadOnlyList<DiskCopyInfo>? DiskCopies, VmCopyPolicyInfo? CopyPolicy);

public sealed record DiskCopyInfo(string Region, DateTimeOffset? LatestCopyAt, DateTimeOffset? LastAttemptAt, string? LastError, string Status, string? StatusReason);

public sealed record VmCopyPolicyInfo(bool Off, int? IntervalMinutes, string? BackupRegion);

/// <summary>Compute's GET /api/v1/regions/{name}/hostInterfaces: the region's hosts and their state.</summary>
public sealed record RegionHostsInfo(string Region, IReadOnlyList<HostInfo>? Hosts);

public sealed record HostInfo(Guid HostId, string Name, string State);

/// <summary>Network's GET /api/v1/onPremisesConnections/{id}.</summary>
public sealed record ConnectionInfo(Guid Id, string DisplayName, string HealthCheckStatus, ConnectionCheckRun? HealthCheckStatusDetail);

public sealed record ConnectionCheckRun(DateTimeOffset EndDateTime, IReadOnlyList<ConnectionCheck>? HealthChecks);

public sealed record ConnectionCheck(string DisplayName, string Status, string? ErrorType, string? RecommendedAction, string? AdditionalDetails);

/// <summary>Provisioning's GET /api/v1/cloudPCs/{id}/snapshots.</summary>
public sealed record RestorePointList(IReadOnlyList<RestorePointInfo>? Value);

public sealed record RestorePointInfo(Guid Id, string Status, DateTimeOffset CreatedDateTime, string? FailureReason);

/// <summary>Another service's answer, or why there is none (never a guess): a check with no answer is skipped or failed, never passed.</summary>
public sealed record Answer<T>(T? Value, int? StatusCode, string? Unavailable) where T : class
{
    public static Answer<T> Of(T value) => new(value, 200, null);

    public static Answer<T> None(int? statusCode, string why) => new(null, statusCode, why);
}
