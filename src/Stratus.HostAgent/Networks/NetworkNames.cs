using System.Security.Cryptography;

namespace Stratus.HostAgent.Networks;

/// <summary>
/// The names of what the agent makes for a network connection and a VM's NIC. Every one starts with "st" and a letter
/// of its kind, so an agent restarted finds its own devices by name, and never takes another's for its own (Linux
/// limits an interface name to 15 characters: prefix + 10 or 11 hex digits of the id).
/// </summary>
public static class NetworkNames
{
    /// <summary>The connection's bridge, in the host's namespace.</summary>
    public static string Bridge(Guid networkId) => "stb" + Hex(networkId, 10);

    /// <summary>The connection's network namespace (DHCP server and checks' probe).</summary>
    public static string Namespace(Guid networkId) => "stn-" + Hex(networkId, 10);

    /// <summary>The veth end in the bridge; its peer <see cref="ProbeLink"/> is in the namespace.</summary>
    public static string VethHostEnd(Guid networkId) => "stv" + Hex(networkId, 10);

    /// <summary>The veth end in the namespace, holding the host's service address.</summary>
    public static string ProbeLink(Guid networkId) => "stp" + Hex(networkId, 10);

    /// <summary>The VLAN sub-interface or VXLAN device the agent makes as the uplink (a host interface is used as it is).</summary>
    public static string UplinkDevice(Guid networkId, string kind) => (kind == "vlan" ? "stl" : "stx") + Hex(networkId, 10);

    /// <summary>A VM's tap device.</summary>
    public static string Tap(Guid vmId) => "stt" + Hex(vmId, 11);

    /// <summary>True for a name of the agent's kinds: never offered as an uplink.</summary>
    public static bool IsAgentDevice(string name) =>
        name.Length > 3 && name.StartsWith("st", StringComparison.Ordinal) && "bvpltx".Contains(name[2], StringComparison.Ordinal)
        && name[3..].All(Uri.IsHexDigit);

    /// <summary>
    /// The VM's MAC: locally administered unicast 02: and the first 5 bytes of SHA-256 of the id's 16 bytes (RFC 4122
    /// order, as the id is written). Stable across hosts and restarts, so the DHCP server's static lease finds it.
    /// </summary>
    public static string MacAddress(Guid vmId)
    {
        var hash = SHA256.HashData(vmId.ToByteArray(bigEndian: true));
        return "02:" + string.Join(':', hash[..5].Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static string Hex(Guid id, int digits) => id.ToString("N")[..digits];
}
