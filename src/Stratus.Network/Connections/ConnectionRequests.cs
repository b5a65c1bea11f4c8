namespace Stratus.Network.Connections;

/// <summary>The uplink of a connection on each host: the interface itself, a VLAN of it or a VXLAN over it.</summary>
public sealed record UplinkRequest(string? Kind, string? Interface, int? VlanId, int? VxlanId, string? VxlanRemote, int? VxlanPort);

/// <summary>POST creates with every field; PATCH changes the fields it names (null: unchanged).</summary>
public sealed record ConnectionRequest(
    string? DisplayName,
    string? RegionName,
    string? ConnectionType,
    string? Subnet,
    string? Gateway,
    int? Mtu,
    UplinkRequest? Uplink,
    List<string>? DnsServers,
    string? DnsSearchDomain,
    List<string>? DnsNamesToResolve,
    List<string>? RequiredEndpoints);

/// <summary>A connection's settings as one whole, checked together: a create's, or a connection's after a patch.</summary>
public sealed record ConnectionSpec(
    string? DisplayName,
    string? Region,
    string? Subnet,
    string? Gateway,
    int Mtu,
    string? UplinkKind,
    string? UplinkInterface,
    int? VlanId,
    int? VxlanId,
    string? VxlanRemote,
    int? VxlanPort,
    List<string> DnsServers,
    string? DnsSearchDomain,
    List<string> DnsNamesToResolve,
    List<string> RequiredEndpoints)
{
    public const int DefaultMtu = 1500;
    public const int DefaultVxlanPort = 4789;

    public static ConnectionSpec FromCreate(ConnectionRequest request) => new(
        request.DisplayName?.Trim(), request.RegionName, request.Subnet?.Trim(), request.Gateway?.Trim(), request.Mtu ?? DefaultMtu,
        request.Uplink?.Kind, request.Uplink?.Interface, request.Uplink?.VlanId, request.Uplink?.VxlanId, request.Uplink?.VxlanRemote?.Trim(),
        request.Uplink?.VxlanPort, request.DnsServers ?? [], Blank(request.DnsSearchDomain), request.DnsNamesToResolve ?? [], request.RequiredEndpoints ?? []);

    public static ConnectionSpec Of(NetworkConnection c) => new(c.DisplayName, c.Region, c.Subnet, c.Gateway, c.Mtu, UplinkKinds.Name(c.UplinkKind),
        c.UplinkInterface, c.VlanId, c.VxlanId, c.VxlanRemote, c.VxlanPort, c.DnsServers, c.DnsSearchDomain, c.DnsNamesToResolve, c.RequiredEndpoints);

    /// <summary>This spec with a patch's fields over it; a given uplink replaces the whole uplink.</summary>
    public ConnectionSpec With(ConnectionRequest patch) => new(
        patch.DisplayName?.Trim() ?? DisplayName, Region, patch.Subnet?.Trim() ?? Subnet, patch.Gateway?.Trim() ?? Gateway, patch.Mtu ?? Mtu,
        patch.Uplink is null ? UplinkKind : patch.Uplink.Kind,
        patch.Uplink is null ? UplinkInterface : patch.Uplink.Interface,
        patch.Uplink is null ? VlanId : patch.Uplink.VlanId,
        patch.Uplink is null ? VxlanId : patch.Uplink.VxlanId,
        patch.Uplink is null ? VxlanRemote : patch.Uplink.VxlanRemote?.Trim(),
        patch.Uplink is null ? VxlanPort : patch.Uplink.VxlanPort,
        patch.DnsServers ?? DnsServers,
        patch.DnsSearchDomain is null ? DnsSearchDomain : Blank(patch.DnsSearchDomain),
        patch.DnsNamesToResolve ?? DnsNamesToResolve,
        patch.RequiredEndpoints ?? RequiredEndpoints);

    /// <summary>What the hosts realize: a change of it needs the connection out of use.</summary>
    public bool SameWiring(ConnectionSpec other) => Subnet == other.Subnet && Gateway == other.Gateway && UplinkKind == other.UplinkKind
        && UplinkInterface == other.UplinkInterface && VlanId == other.VlanId && VxlanId == other.VxlanId && VxlanRemote == other.VxlanRemote
        && (VxlanPort ?? DefaultVxlanPort) == (other.VxlanPort ?? DefaultVxlanPort);

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

public static class UplinkKinds
{
    public static string Name(UplinkKind kind) => kind switch
    {
        Connections.UplinkKind.HostInterface => "hostInterface",
        Connections.UplinkKind.Vlan => "vlan",
        Connections.UplinkKind.Vxlan => "vxlan",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static UplinkKind? Parse(string? name) => name switch
    {
        "hostInterface" => UplinkKind.HostInterface,
        "vlan" => UplinkKind.Vlan,
        "vxlan" => UplinkKind.Vxlan,
        _ => null,
    };
}
