using System.Globalization;
using Stratus.HostAgent.Drivers;

namespace Stratus.HostAgent.Networks;

/// <summary>
/// A VM's tap device: made by the agent (root) and owned by the guest user, so the confined QEMU (no capabilities)
/// opens it by name; a port of the connection's bridge, with the connection's MTU and IPv6 off (nothing of the host's
/// stack faces the guest). The same tap moves to another bridge when the VM's NIC moves.
/// </summary>
internal static class TapDevice
{
    public static async Task EnsureAsync(VmNic nic, int guestUid, CancellationToken cancellationToken)
    {
        if (!LinuxNetwork.LinkExists(nic.Bridge))
        {
            throw new VmDriverException($"The bridge {nic.Bridge} of network connection {nic.NetworkId} does not exist on this host: the connection is not realized here.");
        }

        if (!LinuxNetwork.LinkExists(nic.TapName))
        {
            await LinuxNetwork.IpAsync(cancellationToken, "tuntap", "add", "dev", nic.TapName, "mode", "tap", "user", guestUid.ToString(CultureInfo.InvariantCulture));
        }

        LinuxNetwork.DisableIpv6(nic.TapName);
        await LinuxNetwork.IpAsync(cancellationToken, "link", "set", nic.TapName, "master", nic.Bridge, "mtu", nic.Mtu.ToString(CultureInfo.InvariantCulture), "up");
    }

    public static async Task DeleteAsync(string tapName, CancellationToken cancellationToken)
    {
        if (LinuxNetwork.LinkExists(tapName))
        {
            await LinuxNetwork.IpAsync(cancellationToken, "link", "del", tapName);
        }
    }
}
