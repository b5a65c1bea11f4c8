using Stratus.Platform.Messaging;

namespace Stratus.Network;

// The wire contracts of issue 20 (docs: /work/briefs/issue20-contracts.md), in the network service's own copy:
// services share names and JSON shapes, never assemblies.

/// <summary>A connection was created or changed; compute hands it to every host of its region.</summary>
[MessageName("network.connectionUpserted.v1")]
public sealed record NetworkConnectionUpserted(Guid TenantId, Guid ConnectionId, string Region, long Version, string Subnet,
    string Gateway, int Mtu, string UplinkKind, string UplinkInterface, int? VlanId, int? VxlanId, string? VxlanRemote,
    int? VxlanPort, IReadOnlyList<string> DnsServers, string? DnsSearchDomain, IReadOnlyList<string> DnsNamesToResolve,
    IReadOnlyList<string> RequiredEndpoints, DateTimeOffset OccurredAt);

/// <summary>A connection was deleted; the hosts tear it down once no VM uses it.</summary>
[MessageName("network.connectionDeleted.v1")]
public sealed record NetworkConnectionDeleted(Guid TenantId, Guid ConnectionId, string Region, long Version, DateTimeOffset OccurredAt);

/// <summary>Every host of the region runs the connection's checks again and reports them with <paramref name="RunId"/>.</summary>
[MessageName("network.healthCheckRequested.v1")]
public sealed record NetworkHealthCheckRequested(Guid TenantId, Guid ConnectionId, string Region, Guid RunId, DateTimeOffset OccurredAt);

/// <summary>One check as a host ran it.</summary>
public sealed record NetworkCheckResult(string Name, string Status, string? ErrorType, string? RecommendedAction,
    string? AdditionalDetails, DateTimeOffset StartDateTime, DateTimeOffset EndDateTime);

/// <summary>
/// Compute's event: one host's checks of one connection (each (host, connection, CheckedAt) once). A null
/// <paramref name="RunId"/> is an agent's first check after it realized the connection, outside any run.
/// <paramref name="RegionHostCount"/> is how many hosts of the region are up now (each gets every connection of it).
/// </summary>
[MessageName("compute.networkChecksReported.v1")]
public sealed record NetworkChecksReported(Guid ConnectionId, Guid? RunId, Guid HostId, string HostName, string Region,
    int RegionHostCount, bool Realized, string? Error, IReadOnlyList<NetworkCheckResult> Checks, DateTimeOffset CheckedAt);

/// <summary>A connection's latest completed checks came out differently from the ones before (passed, warning, failed).</summary>
[MessageName("network.connectionHealthChanged.v1")]
public sealed record NetworkConnectionHealthChanged(Guid TenantId, Guid ConnectionId, string DisplayName, string Status, DateTimeOffset OccurredAt);
