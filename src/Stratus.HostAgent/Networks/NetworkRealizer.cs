using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Agent;
using Stratus.HostAgent.Drivers;

namespace Stratus.HostAgent.Networks;

/// <summary>
/// Makes a network connection real on this host, and takes it down (docs/networking.md, ADR 0019):
/// a bridge with no host address and IPv6 off, the uplink (host interface, VLAN or VXLAN) as its port, a namespace with
/// a veth into the bridge holding the host's service address, and dnsmasq in it. Every step is idempotent: it looks
/// before it makes, so a pass repeated, or run by an agent restarted half-way, has its effect once. What was made is
/// written in DATA/networks/HEX/network.json, which is how a restarted agent knows what is its own to remove: it never
/// removes a device it has no state file for.
/// </summary>
internal sealed partial class NetworkRealizer(string dataFolder, ILogger logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public string Root { get; } = Path.Combine(dataFolder, "networks");

    /// <summary>This agent's names of the devices and namespaces it makes.</summary>
    public NetworkNames Names { get; } = new(dataFolder);

    public string FolderOf(Guid networkId) => Path.Combine(Root, networkId.ToString("N"));

    public NetworkDhcp DhcpOf(Guid networkId) => new(FolderOf(networkId), Names.Namespace(networkId), Names.ProbeLink(networkId));

    /// <summary>The networks this agent made (their state files), whatever the desired state says now.</summary>
    public IReadOnlyList<DesiredNetwork> Made()
    {
        if (!Directory.Exists(Root))
        {
            return [];
        }

        var found = new List<DesiredNetwork>();
        foreach (var folder in Directory.GetDirectories(Root))
        {
            var file = Path.Combine(folder, "network.json");
            if (File.Exists(file) && JsonSerializer.Deserialize<DesiredNetwork>(File.ReadAllText(file), Json) is { } network)
            {
                found.Add(network);
            }
        }

        return found;
    }

    /// <summary>Makes (or repairs) the connection, with a static DHCP lease per (MAC, address) of this host's VMs on it.</summary>
    public async Task RealizeAsync(DesiredNetwork network, IReadOnlyList<(string Mac, string Address)> leases, CancellationToken cancellationToken)
    {
        var subnet = IPNetwork.Parse(network.Subnet);
        var bridge = Names.Bridge(network.Id);
        var ns = Names.Namespace(network.Id);
        var folder = FolderOf(network.Id);
        Directory.CreateDirectory(folder);
        Confinement.GuestUser.MakePassable(dataFolder);
        Confinement.GuestUser.MakePassable(Root);
        Confinement.GuestUser.MakePassable(folder);
        var previous = ReadState(folder);
        // The state first: a crash after it leaves devices the next pass (or teardown) knows as its own.
        await WriteStateAsync(folder, network, cancellationToken);
        await HostIsolation.EnsureAsync(cancellationToken);

        if (!LinuxNetwork.LinkExists(bridge))
        {
            await LinuxNetwork.IpAsync(cancellationToken, "link", "add", bridge, "type", "bridge");
        }

        // No host address and no IPv6 on the bridge; its frames bypass the host's IP filters (they never reach its stack).
        HostIsolation.Harden(bridge);
        await LinuxNetwork.IpAsync(cancellationToken, "addr", "flush", "dev", bridge);
        await LinuxNetwork.IpAsync(cancellationToken, "link", "set", bridge, "type", "bridge", "nf_call_iptables", "0", "nf_call_ip6tables", "0", "nf_call_arptables", "0");
        await LinuxNetwork.IpAsync(cancellationToken, "link", "set", bridge, "mtu", Mtu(network), "up");

        await EnsureUplinkAsync(network, previous, bridge, cancellationToken);
        await EnsureProbeAsync(network, previous, subnet, bridge, ns, cancellationToken);
        await DhcpOf(network.Id).EnsureAsync(network, leases, cancellationToken);
        LogRealized(logger, network.Id, bridge, network.UplinkKind, network.UplinkInterface);
    }

    /// <summary>Removes everything of the connection this agent made: dnsmasq, namespace (with its veth), its uplink device, bridge, state.</summary>
    public async Task TearDownAsync(DesiredNetwork network, CancellationToken cancellationToken)
    {
        var folder = FolderOf(network.Id);
        await DhcpOf(network.Id).StopAsync(cancellationToken);

        // The veth before the namespace: a deleted namespace takes its end of the pair, and the host's end with it, but
        // only some time later (the kernel cleans namespaces up asynchronously).
        foreach (var link in new[] { Names.VethHostEnd(network.Id), Names.UplinkDevice(network.Id, "vlan"), Names.UplinkDevice(network.Id, "vxlan"), Names.Bridge(network.Id) })
        {
            // A host interface used as the uplink is released by the bridge's deletion, not deleted.
            if (LinuxNetwork.LinkExists(link) && (await LinuxNetwork.TryIpAsync(cancellationToken, "link", "del", link)) is { ExitCode: not 0 } failed
                && LinuxNetwork.LinkExists(link))
            {
                throw LinuxNetwork.Failure($"ip link del {link} failed: {failed.StandardError.Trim()}");
            }
        }

        var ns = Names.Namespace(network.Id);
        if (LinuxNetwork.NamespaceExists(ns))
        {
            await LinuxNetwork.IpAsync(cancellationToken, "netns", "del", ns);
        }

        Directory.Delete(folder, recursive: true);
        LogTornDown(logger, network.Id);
    }

    private async Task EnsureUplinkAsync(DesiredNetwork network, DesiredNetwork? previous, string bridge, CancellationToken cancellationToken)
    {
        var parent = network.UplinkInterface;
        if (previous is not null && (previous.UplinkKind != network.UplinkKind || previous.UplinkInterface != parent || previous.VlanId != network.VlanId
            || previous.VxlanId != network.VxlanId || previous.VxlanRemote != network.VxlanRemote || previous.VxlanPort != network.VxlanPort))
        {
            await ReleaseUplinkAsync(previous, bridge, cancellationToken);
        }

        if (!LinuxNetwork.LinkExists(parent))
        {
            throw LinuxNetwork.Failure($"The uplink interface '{parent}' does not exist on this host.");
        }

        string uplink;
        switch (network.UplinkKind)
        {
            case "hostInterface":
                uplink = parent;
                if ((await LinuxNetwork.AddressesAsync(parent, cancellationToken)).Count > 0)
                {
                    // Enslaving it would take the host's own addresses off it (and the host off that network).
                    throw LinuxNetwork.Failure($"The uplink interface '{parent}' carries addresses of this host; give the connection an interface without addresses, or a VLAN of it.");
                }

                if (LinuxNetwork.MasterOf(parent) is { } master && master != bridge)
                {
                    throw LinuxNetwork.Failure($"The uplink interface '{parent}' is already a port of '{master}' (another connection, or this one on another agent of this machine?); one interface uplinks one connection of one agent.");
                }

                break;
            case "vlan":
                uplink = Names.UplinkDevice(network.Id, "vlan");
                if (!LinuxNetwork.LinkExists(uplink))
                {
                    await LinuxNetwork.IpAsync(cancellationToken, "link", "add", "link", parent, "name", uplink, "type", "vlan", "id", Invariant(network.VlanId ?? 0));
                }

                break;
            case "vxlan":
                uplink = Names.UplinkDevice(network.Id, "vxlan");
                if (!LinuxNetwork.LinkExists(uplink))
                {
                    await LinuxNetwork.IpAsync(cancellationToken, "link", "add", uplink, "type", "vxlan", "id", Invariant(network.VxlanId ?? 0),
                        "remote", network.VxlanRemote ?? "", "dstport", Invariant(network.VxlanPort ?? 4789), "dev", parent);
                }

                await LinuxNetwork.TryIpAsync(cancellationToken, "link", "set", uplink, "mtu", Mtu(network));
                break;
            default:
                throw LinuxNetwork.Failure($"Unknown uplink kind '{network.UplinkKind}'.");
        }

        LinuxNetwork.DisableIpv6(uplink);
        // A host interface is the operator's: enslaved, never brought up or down by the agent (uplinkExists says when it
        // is down). The VLAN or VXLAN device is the agent's own, so it is up.
        await LinuxNetwork.IpAsync(cancellationToken, network.UplinkKind == "hostInterface" ? ["link", "set", uplink, "master", bridge] : ["link", "set", uplink, "master", bridge, "up"]);
    }

    private async Task ReleaseUplinkAsync(DesiredNetwork previous, string bridge, CancellationToken cancellationToken)
    {
        if (previous.UplinkKind == "hostInterface")
        {
            if (LinuxNetwork.MasterOf(previous.UplinkInterface) == bridge)
            {
                await LinuxNetwork.IpAsync(cancellationToken, "link", "set", previous.UplinkInterface, "nomaster");
            }

            return;
        }

        var device = Names.UplinkDevice(previous.Id, previous.UplinkKind);
        if (LinuxNetwork.LinkExists(device))
        {
            await LinuxNetwork.IpAsync(cancellationToken, "link", "del", device);
        }
    }

    private async Task EnsureProbeAsync(DesiredNetwork network, DesiredNetwork? previous, IPNetwork subnet, string bridge, string ns, CancellationToken cancellationToken)
    {
        var hostEnd = Names.VethHostEnd(network.Id);
        var probe = Names.ProbeLink(network.Id);
        if (!LinuxNetwork.NamespaceExists(ns))
        {
            await LinuxNetwork.IpAsync(cancellationToken, "netns", "add", ns);
        }

        if (!LinuxNetwork.LinkExists(hostEnd))
        {
            // The namespace may hold a stale peer (its host end deleted by hand): the pair is made again whole.
            await LinuxNetwork.TryIpAsync(cancellationToken, "-n", ns, "link", "del", probe);
            await LinuxNetwork.IpAsync(cancellationToken, "link", "add", hostEnd, "type", "veth", "peer", "name", probe, "netns", ns);
        }

        LinuxNetwork.DisableIpv6(hostEnd);
        await LinuxNetwork.IpAsync(cancellationToken, "link", "set", hostEnd, "master", bridge, "mtu", Mtu(network), "up");
        await LinuxNetwork.IpAsync(cancellationToken, "-n", ns, "link", "set", "lo", "up");
        await LinuxNetwork.IpAsync(cancellationToken, "-n", ns, "link", "set", probe, "mtu", Mtu(network), "up");
        if (previous is not null && previous.ServiceAddress != network.ServiceAddress)
        {
            await LinuxNetwork.IpAsync(cancellationToken, "-n", ns, "addr", "flush", "dev", probe);
        }

        await LinuxNetwork.IpAsync(cancellationToken, "-n", ns, "addr", "replace", $"{network.ServiceAddress}/{Invariant(subnet.PrefixLength)}", "dev", probe);
        await LinuxNetwork.IpAsync(cancellationToken, "-n", ns, "route", "replace", "default", "via", network.Gateway, "dev", probe);
    }

    private static DesiredNetwork? ReadState(string folder)
    {
        var file = Path.Combine(folder, "network.json");
        return File.Exists(file) ? JsonSerializer.Deserialize<DesiredNetwork>(File.ReadAllText(file), Json) : null;
    }

    private static async Task WriteStateAsync(string folder, DesiredNetwork network, CancellationToken cancellationToken)
    {
        var file = Path.Combine(folder, "network.json");
        await File.WriteAllTextAsync(file + ".tmp", JsonSerializer.Serialize(network with { CheckRunId = null }, Json), cancellationToken);
        File.Move(file + ".tmp", file, overwrite: true);
    }

    private static string Mtu(DesiredNetwork network) => Invariant(network.Mtu);

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 4301, Level = LogLevel.Information, Message = "Network connection {NetworkId} realized: bridge {Bridge}, uplink {Kind} {Interface}")]
    private static partial void LogRealized(ILogger logger, Guid networkId, string bridge, string kind, string @interface);

    [LoggerMessage(EventId = 4302, Level = LogLevel.Information, Message = "Network connection {NetworkId} torn down: no longer listed and no VM on it")]
    private static partial void LogTornDown(ILogger logger, Guid networkId);
}
