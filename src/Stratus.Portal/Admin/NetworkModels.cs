namespace Stratus.Portal.Admin;

// The network service's resource /api/v1/onPremisesConnections (Graph's cloudPcOnPremisesConnection names), as the
// Network connections pages read it (issue 20).

public sealed record UplinkItem(string Kind, string Interface, int? VlanId, int? VxlanId, string? VxlanRemote, int? VxlanPort);

/// <summary>One check of a run: its result across the region's hosts (the worst), what to do, and how long it took.</summary>
public sealed record HealthCheckItem(
    string DisplayName, string Status, string? ErrorType, string? RecommendedAction, string? AdditionalDetails,
    DateTimeOffset? StartDateTime, DateTimeOffset? EndDateTime, long? DurationMs);

public sealed record HealthCheckStatusDetailItem(DateTimeOffset? StartDateTime, DateTimeOffset? EndDateTime, List<HealthCheckItem>? HealthChecks);

public sealed record NetworkConnectionItem(
    Guid Id, string DisplayName, string RegionName, string ConnectionType, string Subnet, string Gateway, int Mtu, UplinkItem Uplink,
    List<string> DnsServers, string? DnsSearchDomain, List<string> DnsNamesToResolve, List<string> RequiredEndpoints, bool? InUse,
    string HealthCheckStatus, HealthCheckStatusDetailItem? HealthCheckStatusDetail, DateTimeOffset CreatedDateTime, DateTimeOffset LastModifiedDateTime);

/// <summary>
/// A run of GET {id}/healthCheckRuns, newest first: its overall status (running, passed, warning, failed), the hosts
/// that reported, and its checks once it ended.
/// </summary>
public sealed record HealthCheckRunItem(
    Guid Id, DateTimeOffset RequestedDateTime, string? RequestedBy, string Status, DateTimeOffset? EndDateTime, List<string>? HostsReported,
    HealthCheckStatusDetailItem? Detail);

/// <summary>Words a person reads for connections and their checks.</summary>
public static class NetworkText
{
    /// <summary>The checks in the order they run, with what each one proves.</summary>
    private static readonly Dictionary<string, string> Checks = new(StringComparer.Ordinal)
    {
        ["uplinkExists"] = "Uplink exists on every host",
        ["bridgeAndDhcpRunning"] = "Bridge and DHCP run",
        ["mtuConsistent"] = "MTU is consistent",
        ["gatewayReachable"] = "Gateway answers",
        ["dnsResolution"] = "DNS servers resolve the names",
        ["endpointConnectivity"] = "Required endpoints are reachable",
        ["addressSpace"] = "Enough free addresses",
        ["hostsReporting"] = "Every host of the region reported",
    };

    /// <summary>The badge of a connection's or a run's health: a run under way reads "Checking", not a VM's "Running".</summary>
    public static string Badge(string healthCheckStatus) => healthCheckStatus == "running" ? "checking" : healthCheckStatus;

    public static string Check(string name) => Checks.GetValueOrDefault(name, FieldLabels.For(name));

    public static string Uplink(UplinkItem uplink) => uplink.Kind switch
    {
        "vlan" => $"VLAN {uplink.VlanId} on {uplink.Interface}",
        "vxlan" => $"VXLAN {uplink.VxlanId} to {uplink.VxlanRemote}:{uplink.VxlanPort ?? 4789} over {uplink.Interface}",
        _ => uplink.Interface,
    };

    public static string UplinkKind(string kind) => kind switch
    {
        "hostInterface" => "Host interface",
        "vlan" => "VLAN",
        "vxlan" => "VXLAN",
        _ => kind,
    };

    /// <summary>Provisioning's word on whether Cloud PCs or policies use it; null when it could not say just then.</summary>
    public static string InUse(bool? inUse) => inUse switch
    {
        true => "Yes",
        false => "No",
        null => "Unknown",
    };

    public static string Duration(long? milliseconds) => milliseconds switch
    {
        null => "—",
        < 1000 => $"{milliseconds} ms",
        _ => $"{milliseconds / 1000.0:0.0} s",
    };

    /// <summary>When the latest run ended, or that none has yet.</summary>
    public static string LastCheck(NetworkConnectionItem connection) =>
        connection.HealthCheckStatus == "running" ? "Running now"
        : connection.HealthCheckStatusDetail?.EndDateTime is { } ended ? DirectoryText.DateTime(ended)
        : "Never";

    /// <summary>A list typed in one field: entries separated by commas, spaces or new lines.</summary>
    public static List<string> Entries(string? text) =>
        (text ?? "").Split([',', ' ', '\n', '\r', '\t', ';'], StringSplitOptions.RemoveEmptyEntries).ToList();
}
