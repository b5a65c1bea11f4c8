using System.Text.Json;
using Stratus.Network.HealthChecks;

namespace Stratus.Network.Connections;

public sealed record UplinkView(string Kind, string Interface, int? VlanId, int? VxlanId, string? VxlanRemote, int? VxlanPort);

/// <summary>Graph's cloudPcOnPremisesConnection, with Stratus's own network fields (the contract of issue 20).</summary>
public sealed record ConnectionView(
    Guid Id,
    string DisplayName,
    string RegionName,
    string ConnectionType,
    string Subnet,
    string Gateway,
    int Mtu,
    UplinkView Uplink,
    IReadOnlyList<string> DnsServers,
    string? DnsSearchDomain,
    IReadOnlyList<string> DnsNamesToResolve,
    IReadOnlyList<string> RequiredEndpoints,
    bool? InUse,
    string HealthCheckStatus,
    HealthCheckDetail? HealthCheckStatusDetail,
    DateTimeOffset CreatedDateTime,
    DateTimeOffset LastModifiedDateTime)
{
    /// <param name="inUse">Provisioning's answer; null when it could not say.</param>
    public static ConnectionView From(NetworkConnection c, bool? inUse) => new(c.Id, c.DisplayName, c.Region, "custom", c.Subnet, c.Gateway, c.Mtu,
        new UplinkView(UplinkKinds.Name(c.UplinkKind), c.UplinkInterface, c.VlanId, c.VxlanId, c.VxlanRemote,
            c.UplinkKind == UplinkKind.Vxlan ? c.VxlanPort ?? ConnectionSpec.DefaultVxlanPort : null),
        c.DnsServers, c.DnsSearchDomain, c.DnsNamesToResolve, c.RequiredEndpoints, inUse, StatusName(c.HealthCheckStatus),
        HealthCheckDetail.Parse(c.HealthCheckDetail), c.CreatedAt, c.LastModifiedAt);

    public static string StatusName(HealthCheckStatus status) => status.ToString().ToLowerInvariant();
}

/// <summary>One check aggregated over the region's hosts (Graph's cloudPcOnPremisesConnectionHealthCheck).</summary>
public sealed record HealthCheckView(string DisplayName, string Status, string? ErrorType, string? RecommendedAction, string? AdditionalDetails,
    DateTimeOffset StartDateTime, DateTimeOffset EndDateTime, long DurationMs);

public sealed record HealthCheckDetail(DateTimeOffset StartDateTime, DateTimeOffset EndDateTime, IReadOnlyList<HealthCheckView> HealthChecks)
{
    public static readonly JsonSerializerOptions Json = JsonSerializerOptions.Web;

    public static HealthCheckDetail? Parse(string? json) => json is null ? null : JsonSerializer.Deserialize<HealthCheckDetail>(json, Json);

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

/// <summary>A run in a connection's history.</summary>
public sealed record HealthCheckRunView(Guid Id, Guid ConnectionId, DateTimeOffset RequestedDateTime, string RequestedBy, DateTimeOffset Deadline,
    string Status, DateTimeOffset? EndDateTime, IReadOnlyList<string> HostsReported, HealthCheckDetail? Detail)
{
    public static HealthCheckRunView From(HealthCheckRun run) => new(run.Id, run.ConnectionId, run.RequestedAt, run.RequestedBy, run.Deadline,
        ConnectionView.StatusName(run.Status), run.EndedAt, HostReports.Parse(run.HostReports).Select(r => r.HostName).ToList(), HealthCheckDetail.Parse(run.Detail));
}
