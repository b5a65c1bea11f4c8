using Microsoft.EntityFrameworkCore;
using Stratus.Compute.Agents;
using Stratus.Compute.Persistence;
using Stratus.Compute.Vms;

namespace Stratus.Compute.Networks;

/// <summary>The network part of a host's desired state: every live connection of its region, and its VMs' NICs.</summary>
internal static class NetworkDesiredState
{
    /// <summary>
    /// The region's connections, each with this host's service address (one the host has no address on yet, its subnet
    /// full, is left out), and the NIC of each VM that has an address on its desired connection.
    /// </summary>
    public static async Task<(List<DesiredNetwork> Networks, Dictionary<Guid, DesiredNic> Nics)> ReadAsync(
        ComputeDbContext db, Guid hostId, IReadOnlyList<Vm> vms, CancellationToken cancellationToken)
    {
        var region = await db.Hosts.Where(h => h.Id == hostId).Select(h => h.Region).FirstAsync(cancellationToken);
        var connections = await db.NetworkConnections.AsNoTracking().Where(c => c.Region == region && !c.Deleted).OrderBy(c => c.Id).ToListAsync(cancellationToken);
        var serviceAddresses = await db.NetworkAddresses.AsNoTracking().Where(a => a.HostId == hostId)
            .ToDictionaryAsync(a => a.ConnectionId, a => a.Address, cancellationToken);
        var networks = connections.Where(c => serviceAddresses.ContainsKey(c.Id)).Select(c => new DesiredNetwork(
            c.Id, c.Version, c.Subnet, c.Gateway, c.Mtu, c.UplinkKind, c.UplinkInterface, c.VlanId, c.VxlanId, c.VxlanRemote, c.VxlanPort,
            serviceAddresses[c.Id], c.DnsServers, c.DnsSearchDomain, c.DnsNamesToResolve, c.RequiredEndpoints, c.CheckRunId)).ToList();

        var vmIds = vms.Where(v => v.NetworkConnectionId is not null).Select(v => v.Id).ToList();
        var addresses = await db.NetworkAddresses.AsNoTracking().Where(a => a.VmId != null && vmIds.Contains(a.VmId.Value)).ToListAsync(cancellationToken);
        var nics = new Dictionary<Guid, DesiredNic>();
        foreach (var vm in vms.Where(v => v.NetworkConnectionId is not null))
        {
            if (addresses.FirstOrDefault(a => a.VmId == vm.Id && a.ConnectionId == vm.NetworkConnectionId) is { } address)
            {
                nics[vm.Id] = new DesiredNic(address.ConnectionId, address.Address);
            }
        }

        return (networks, nics);
    }
}
