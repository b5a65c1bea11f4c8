namespace Stratus.Provisioning.Tests.Support;

// What the tests read of the API's answers; the JSON is matched case-insensitively, as Graph's camelCase.

public sealed record Page<T>(List<T> Value, int TotalCount);

public sealed record StatusDetailBody(string Code, string Message, bool Retryable);

public sealed record CloudPcBody(
    Guid Id, string DisplayName, string ManagedDeviceName, Guid UserId, string UserPrincipalName, Guid ProvisioningPolicyId, string ProvisioningPolicyName,
    Guid ServicePlanId, string ServicePlanName, string ImageId, string ImageDisplayName, string Status, StatusDetailBody? StatusDetail, string PowerState,
    DateTimeOffset? GracePeriodEndDateTime, DateTimeOffset LastModifiedDateTime, DateTimeOffset CreatedDateTime, string RegionName, string? HostName,
    int VCpuCount, int RamInGB, int StorageInGB, Guid? ActiveOperationId);

public sealed record OperationBody(Guid Id, Guid CloudPcId, string Action, string Status, string? Detail, DateTimeOffset CreatedDateTime, DateTimeOffset? CompletedDateTime);

public sealed record AssignmentTargetBody(Guid GroupId, Guid ServicePlanId);

public sealed record AssignmentBody(Guid Id, AssignmentTargetBody Target, DateTimeOffset AssignedDateTime);

public sealed record PolicyBody(
    Guid Id, string DisplayName, string Description, string ImageId, string ImageType, string ImageDisplayName, List<string> RegionNames, bool AutomaticRegion,
    string CloudPcNamingTemplate, bool LocalAdminEnabled, int GracePeriodInHours, List<AssignmentBody> Assignments);

public sealed record BulkItemBody(Guid CloudPcId, int Status, Guid? OperationId, string? Error);

public sealed record BulkResultBody(string Action, int Succeeded, int Failed, List<BulkItemBody> Value);

public sealed record VmBody(Guid Id, Guid HostId, Guid? TenantId, string Region, int VCpuCount, int MemoryMiB, int DiskGiB, string DesiredPower, bool DeleteRequested, string? State, bool Ready);

public sealed record HostBody(Guid Id, string Name, string Region, string State);

/// <summary>The network side of a Cloud PC (issue 20): Graph's onPremisesConnectionId and name, and its NIC's address.</summary>
public sealed record CloudPcNetworkBody(
    Guid Id, Guid UserId, Guid VmId, string Status, StatusDetailBody? StatusDetail, string RegionName, Guid? OnPremisesConnectionId, string OnPremisesConnectionName, string? IpAddress);
