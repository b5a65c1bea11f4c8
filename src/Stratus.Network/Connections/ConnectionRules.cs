using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Stratus.Platform.Http;

namespace Stratus.Network.Connections;

/// <summary>
/// The bad-input rules of a connection (issue 20): each names its field, and all are checked before anything is
/// written or sent to a host. The interface's presence on the region's hosts is asked of compute separately.
/// </summary>
public static partial class ConnectionRules
{
    public const int MinMtu = 576;
    public const int MaxMtu = 9000;
    private const int MaxListEntries = 16;

    // A Linux interface name: at most 15 bytes (IFNAMSIZ - 1), no '/', ':' or white space; "." and ".." are not names.
    [GeneratedRegex(@"^(?!\.{1,2}$)[A-Za-z0-9_.\-]{1,15}$")]
    private static partial Regex InterfaceName();

    [GeneratedRegex(@"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*$")]
    private static partial Regex HostName();

    public static bool IsInterfaceName(string? name) => name is not null && InterfaceName().IsMatch(name);

    /// <param name="otherSubnets">The tenant's other connections' subnets, with their names, for the overlap rule.</param>
    public static void Validate(ConnectionSpec spec, IReadOnlyCollection<string> regions, IEnumerable<(string Subnet, string Name)> otherSubnets, Validator validator)
    {
        validator.Require("displayName", spec.DisplayName, maxLength: 256);
        validator.Check(spec.Region is not null && regions.Contains(spec.Region), "regionName",
            spec.Region is null ? $"'regionName' is required; choose from {string.Join(", ", regions)}." : $"'{spec.Region}' is not a region; choose from {string.Join(", ", regions)}.");
        var subnet = ValidateSubnet(spec.Subnet, otherSubnets, validator);
        ValidateGateway(spec.Gateway, subnet, validator);
        validator.Check(spec.Mtu is >= MinMtu and <= MaxMtu, "mtu", $"'mtu' must be {MinMtu} to {MaxMtu}.");
        ValidateUplink(spec, validator);
        ValidateList(spec.DnsServers, "dnsServers", s => IPAddress.TryParse(s, out var a) && a.AddressFamily == AddressFamily.InterNetwork && s.Count(c => c == '.') == 3,
            "is not an IPv4 address (such as 10.20.0.53)", validator);
        validator.Check(spec.DnsSearchDomain is null || HostName().IsMatch(spec.DnsSearchDomain), "dnsSearchDomain",
            $"'{spec.DnsSearchDomain}' is not a DNS domain (such as corp.example).");
        ValidateList(spec.DnsNamesToResolve, "dnsNamesToResolve", HostName().IsMatch, "is not a DNS name (such as intranet.corp.example)", validator);
        ValidateList(spec.RequiredEndpoints, "requiredEndpoints", IsEndpoint, "is not host:port (such as intranet.corp.example:443)", validator);
    }

    /// <summary>The subnet parsed, or null (with the reason added) when it is malformed or overlaps another of the tenant's.</summary>
    private static IPNetwork? ValidateSubnet(string? text, IEnumerable<(string Subnet, string Name)> others, Validator validator)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            validator.Add("subnet", "'subnet' is required, as an IPv4 CIDR such as 10.20.0.0/24.");
            return null;
        }

        if (!TryParseSubnet(text, out var subnet, out var error))
        {
            validator.Add("subnet", error);
            return null;
        }

        foreach (var (other, name) in others)
        {
            if (IPNetwork.TryParse(other, out var existing) && (existing.Contains(subnet.BaseAddress) || subnet.Contains(existing.BaseAddress)))
            {
                validator.Add("subnet", $"'{text}' overlaps {other} of your connection '{name}'; choose a subnet that overlaps none of your connections.");
                return null;
            }
        }

        return subnet;
    }

    public static bool TryParseSubnet(string text, out IPNetwork subnet, out string error)
    {
        subnet = default;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(text[..slash], out var address) || address.AddressFamily != AddressFamily.InterNetwork
            || text[..slash].Count(c => c == '.') != 3 || !int.TryParse(text[(slash + 1)..], out var prefix) || prefix is < 0 or > 32)
        {
            error = $"'{text}' is not an IPv4 CIDR (such as 10.20.0.0/24).";
            return false;
        }

        if (prefix is < 8 or > 29)
        {
            error = $"'{text}': the prefix length must be 8 to 29 (a /29 holds 6 addresses: the gateway, one per host and the Cloud PCs).";
            return false;
        }

        var mask = uint.MaxValue << (32 - prefix);
        var bits = ToUInt(address);
        if ((bits & ~mask) != 0)
        {
            error = $"'{text}' has host bits set: its network address is {FromUInt(bits & mask)}/{prefix}.";
            return false;
        }

        subnet = new IPNetwork(address, prefix);
        error = "";
        return true;
    }

    private static void ValidateGateway(string? text, IPNetwork? subnet, Validator validator)
    {
        if (string.IsNullOrWhiteSpace(text) || !IPAddress.TryParse(text, out var gateway) || gateway.AddressFamily != AddressFamily.InterNetwork || text.Count(c => c == '.') != 3)
        {
            validator.Add("gateway", string.IsNullOrWhiteSpace(text) ? "'gateway' is required, an IPv4 address in the subnet." : $"'{text}' is not an IPv4 address.");
            return;
        }

        if (subnet is not { } network)
        {
            return;
        }

        var (first, last) = Bounds(network);
        var bits = ToUInt(gateway);
        if (!network.Contains(gateway))
        {
            validator.Add("gateway", $"'{text}' is outside the subnet {network}; choose an address from {FromUInt(first + 1)} to {FromUInt(last - 1)}.");
        }
        else if (bits == first || bits == last)
        {
            validator.Add("gateway", $"'{text}' is the subnet's {(bits == first ? "network" : "broadcast")} address; choose one from {FromUInt(first + 1)} to {FromUInt(last - 1)}.");
        }
    }

    private static void ValidateUplink(ConnectionSpec spec, Validator validator)
    {
        var kind = UplinkKinds.Parse(spec.UplinkKind);
        if (kind is null)
        {
            validator.Add("uplink.kind", spec.UplinkKind is null
                ? "'uplink.kind' is required: hostInterface, vlan or vxlan."
                : $"'{spec.UplinkKind}' is not an uplink kind; use hostInterface, vlan or vxlan.");
        }

        validator.Check(IsInterfaceName(spec.UplinkInterface), "uplink.interface", spec.UplinkInterface is null
            ? "'uplink.interface' is required: the host interface the connection goes out through (such as eth1)."
            : $"'{spec.UplinkInterface}' is not a Linux interface name (1 to 15 letters, digits, '.', '-' or '_').");
        if (kind == UplinkKind.Vlan)
        {
            validator.Check(spec.VlanId is >= 1 and <= 4094, "uplink.vlanId", "'uplink.vlanId' must be 1 to 4094 for a vlan uplink.");
        }
        else
        {
            validator.Check(spec.VlanId is null, "uplink.vlanId", "'uplink.vlanId' applies only to a vlan uplink.");
        }

        if (kind == UplinkKind.Vxlan)
        {
            validator.Check(spec.VxlanId is >= 1 and <= 16777215, "uplink.vxlanId", "'uplink.vxlanId' must be 1 to 16777215 for a vxlan uplink.");
            validator.Check(spec.VxlanRemote is not null && IPAddress.TryParse(spec.VxlanRemote, out var remote) && remote.AddressFamily == AddressFamily.InterNetwork,
                "uplink.vxlanRemote", "'uplink.vxlanRemote' is required for a vxlan uplink: the IPv4 address of the far end.");
            validator.Check(spec.VxlanPort is null or (>= 1 and <= 65535), "uplink.vxlanPort", "'uplink.vxlanPort' must be 1 to 65535 (default 4789).");
        }
        else
        {
            validator.Check(spec.VxlanId is null && spec.VxlanRemote is null && spec.VxlanPort is null, "uplink.vxlanId",
                "'uplink.vxlanId', 'vxlanRemote' and 'vxlanPort' apply only to a vxlan uplink.");
        }
    }

    private static void ValidateList(List<string> entries, string field, Func<string, bool> valid, string problem, Validator validator)
    {
        if (entries.Count > MaxListEntries)
        {
            validator.Add(field, $"'{field}' may have at most {MaxListEntries} entries.");
            return;
        }

        foreach (var entry in entries)
        {
            validator.Check(entry is not null && valid(entry), field, $"'{entry}' {problem}.");
        }
    }

    private static bool IsEndpoint(string entry)
    {
        var colon = entry.LastIndexOf(':');
        return colon > 0 && int.TryParse(entry[(colon + 1)..], out var port) && port is >= 1 and <= 65535 && entry[(colon + 1)..].All(char.IsAsciiDigit)
            && HostName().IsMatch(entry[..colon]);
    }

    /// <summary>The subnet's network and broadcast addresses as numbers.</summary>
    public static (uint First, uint Last) Bounds(IPNetwork subnet)
    {
        var first = ToUInt(subnet.BaseAddress);
        return (first, first | (subnet.PrefixLength == 0 ? uint.MaxValue : (1u << (32 - subnet.PrefixLength)) - 1));
    }

    private static uint ToUInt(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
    }

    private static IPAddress FromUInt(uint value) => new([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
}
