using Stratus.Gateway.Connect;
using Stratus.HostAgent.Agent;
using Stratus.HostAgent.Drivers.Qemu;

namespace Stratus;

/// <summary>The displays of the embedded hosts' VMs: QEMU's VNC sockets under DATA/hosts/REGION/vms/VM.</summary>
internal sealed class EmbeddedConsoles(string dataFolder) : IVmConsoles
{
    public string? FindVncSocket(Guid vmId)
    {
        var hosts = Path.Combine(dataFolder, "hosts");
        if (!Directory.Exists(hosts))
        {
            return null;
        }

        // Through the same short link the driver uses: the real path may be too long for a unix socket.
        return Directory.GetDirectories(hosts)
            .Select(host => Path.Combine(SocketFolder.Shorten(host), "vms", HostAgentService.DriverId(vmId), "vnc.sock"))
            .FirstOrDefault(File.Exists);
    }
}
