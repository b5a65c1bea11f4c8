using System.Security.Cryptography;
using System.Text;

namespace Stratus.HostAgent.Networks;

/// <summary>
/// The names of what an agent makes for a network connection and a VM's NIC. Every one starts with "st" and a letter
/// of its kind, so an agent restarted finds its own devices by name, and never takes another's for its own (Linux
/// limits an interface name to 15 characters: prefix + 10 or 11 hex digits).
/// The hex digits are SHA-256 of the agent's data folder and the id, not the id itself: several agents of one machine
/// (the embedded hosts of `stratus up`, or `stratus host` agents of one region beside them) may each realize the same
/// connection, or hold the same VM id (a VM made again on another host after a host loss), and each must have its own
/// bridge, namespace, dnsmasq and tap, torn down without touching the other's (as the cgroups do, ADR 0007, ADR 0019).
/// </summary>
public sealed class NetworkNames(string dataFolder)
{
    private readonly byte[] agentKey = Encoding.UTF8.GetBytes(Path.GetFullPath(dataFolder) + "\0");

    /// <summary>The connection's bridge, in the host's namespace.</summary>
    public string Bridge(Guid networkId) => "stb" + Hex(networkId, 10);

    /// <summary>The connection's network namespace (DHCP server and checks' probe).</summary>
    public string Namespace(Guid networkId) => "stn-" + Hex(networkId, 10);

    /// <summary>The veth end in the bridge; its peer <see cref="ProbeLink"/> is in the namespace.</summary>
    public string VethHostEnd(Guid networkId) => "stv" + Hex(networkId, 10);

    /// <summary>The veth end in the namespace, holding the host's service address.</summary>
    public string ProbeLink(Guid networkId) => "stp" + Hex(networkId, 10);

    /// <summary>The VLAN sub-interface or VXLAN device the agent makes as the uplink (a host interface is used as it is).</summary>
    public string UplinkDevice(Guid networkId, string kind) => (kind == "vlan" ? "stl" : "stx") + Hex(networkId, 10);

    /// <summary>A VM's tap device.</summary>
    public string Tap(Guid vmId) => "stt" + Hex(vmId, 11);

    /// <summary>True for a name of the agent's kinds (any agent's): never offered as an uplink.</summary>
    public static bool IsAgentDevice(string name) =>
        name.Length > 3 && name.StartsWith("st", StringComparison.Ordinal) && "bvpltx".Contains(name[2], StringComparison.Ordinal)
        && name[3..].All(Uri.IsHexDigit);

    /// <summary>
    /// The VM's MAC: locally administered unicast 02: and the first 5 bytes of SHA-256 of the id's 16 bytes (RFC 4122
    /// order, as the id is written). Stable across hosts and restarts (unlike the device names, it is the same for
    /// every agent), so the DHCP server's static lease finds it.
    /// </summary>
    public static string MacAddress(Guid vmId)
    {
        var hash = SHA256.HashData(vmId.ToByteArray(bigEndian: true));
        return "02:" + string.Join(':', hash[..5].Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
    }

    private string Hex(Guid id, int digits) => Convert.ToHexStringLower(SHA256.HashData([.. agentKey, .. id.ToByteArray(bigEndian: true)]))[..digits];
}
