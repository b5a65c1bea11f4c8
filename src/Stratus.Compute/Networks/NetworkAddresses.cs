using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Stratus.Compute.Hosts;
using Stratus.Compute.Persistence;

namespace Stratus.Compute.Networks;

/// <summary>
/// Gives out the addresses of a connection's subnet: VMs' from the bottom, hosts' service addresses from the top, never
/// the network, gateway or broadcast address. The table's key (connection, address) is what makes an address given twice
/// impossible: of two allocations that chose the same address, the second save fails and its caller reads again.
/// </summary>
internal static class NetworkAddresses
{
    /// <summary>The VM's address on the connection, allocated now (tracked, saved by the caller) unless it has one; null when the subnet is full.</summary>
    public static async Task<string?> AllocateVmAsync(ComputeDbContext db, NetworkConnection connection, Guid vmId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var held = await HeldAsync(db, connection.Id, cancellationToken);
        if (held.FirstOrDefault(a => a.VmId == vmId) is { } existing)
        {
            return existing.Address;
        }

        var taken = held.Select(h => h.Address).ToHashSet();
        var free = Usable(connection, fromTop: false).FirstOrDefault(a => !taken.Contains(a));
        if (free is not null)
        {
            db.NetworkAddresses.Add(new NetworkAddress { ConnectionId = connection.Id, Address = free, VmId = vmId, AllocatedAt = now });
        }

        return free;
    }

    /// <summary>
    /// Gives each host a service address on each connection where it has none (tracked, saved by the caller). Returns the
    /// hosts that got one (their desired state changed). A host for which the subnet is full gets none: its desired state
    /// leaves that connection out until an address frees up.
    /// </summary>
    public static async Task<HashSet<Guid>> EnsureHostAddressesAsync(ComputeDbContext db, IReadOnlyList<Host> hosts, IReadOnlyList<NetworkConnection> connections,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var changed = new HashSet<Guid>();
        foreach (var connection in connections.Where(c => !c.Deleted))
        {
            var held = await HeldAsync(db, connection.Id, cancellationToken);
            var taken = held.Select(h => h.Address).ToHashSet();
            var free = Usable(connection, fromTop: true).Where(a => !taken.Contains(a)).GetEnumerator();
            using (free)
            {
                foreach (var host in hosts.Where(h => h.Region == connection.Region && !held.Any(a => a.HostId == h.Id)))
                {
                    if (!free.MoveNext())
                    {
                        break;
                    }

                    db.NetworkAddresses.Add(new NetworkAddress { ConnectionId = connection.Id, Address = free.Current, HostId = host.Id, AllocatedAt = now });
                    changed.Add(host.Id);
                }
            }
        }

        return changed;
    }

    /// <summary>Frees the VM's addresses: all of them, or all but the one on <paramref name="keepOn"/> when it is set.</summary>
    public static async Task FreeVmAsync(ComputeDbContext db, Guid vmId, CancellationToken cancellationToken, Guid? keepOn = null)
    {
        var rows = await db.NetworkAddresses.Where(a => a.VmId == vmId).ToListAsync(cancellationToken);
        db.NetworkAddresses.RemoveRange(rows.Where(a => keepOn is null || a.ConnectionId != keepOn));
    }

    /// <summary>The VM's address on the connection, or null.</summary>
    public static Task<string?> OfVmAsync(ComputeDbContext db, Guid vmId, Guid? connectionId, CancellationToken cancellationToken) =>
        connectionId is null ? Task.FromResult<string?>(null)
        : db.NetworkAddresses.AsNoTracking().Where(a => a.VmId == vmId && a.ConnectionId == connectionId).Select(a => a.Address).FirstOrDefaultAsync(cancellationToken);

    /// <summary>The connection's addresses held now: the store's rows plus the tracked additions, less the tracked removals.</summary>
    private static async Task<List<NetworkAddress>> HeldAsync(ComputeDbContext db, Guid connectionId, CancellationToken cancellationToken)
    {
        await db.NetworkAddresses.Where(a => a.ConnectionId == connectionId).LoadAsync(cancellationToken);
        return db.ChangeTracker.Entries<NetworkAddress>()
            .Where(e => e.Entity.ConnectionId == connectionId && e.State is EntityState.Added or EntityState.Unchanged or EntityState.Modified)
            .Select(e => e.Entity).ToList();
    }

    /// <summary>
    /// The subnet's addresses a guest or a host may have, from the bottom or the top: not the network address, the gateway
    /// or the broadcast address. IPv4 only (network accepts no other); nothing for a subnet that does not parse.
    /// </summary>
    internal static IEnumerable<string> Usable(NetworkConnection connection, bool fromTop)
    {
        if (!IPNetwork.TryParse(connection.Subnet, out var subnet) || subnet.BaseAddress.AddressFamily != AddressFamily.InterNetwork || subnet.PrefixLength > 30)
        {
            yield break;
        }

        var network = ToNumber(subnet.BaseAddress);
        var broadcast = network + (1u << (32 - subnet.PrefixLength)) - 1;
        var gateway = IPAddress.TryParse(connection.Gateway, out var parsed) && parsed.AddressFamily == AddressFamily.InterNetwork ? ToNumber(parsed) : 0;
        for (var i = 1u; i < broadcast - network; i++)
        {
            var candidate = fromTop ? broadcast - i : network + i;
            if (candidate != gateway)
            {
                yield return new IPAddress([(byte)(candidate >> 24), (byte)(candidate >> 16), (byte)(candidate >> 8), (byte)candidate]).ToString();
            }
        }
    }

    private static uint ToNumber(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return ((uint)bytes[0] << 24) | ((uint)bytes[1] << 16) | ((uint)bytes[2] << 8) | bytes[3];
    }
}
