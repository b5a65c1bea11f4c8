using Microsoft.EntityFrameworkCore;
using Stratus.Compute.Hosts;
using Stratus.Compute.Persistence;
using Stratus.Platform.Messaging;

namespace Stratus.Compute.Networks;

/// <summary>What the network handlers share: the region's hosts' desired state changes, and a save that races is read again.</summary>
internal static class RegionNetworks
{
    private const int MaxAttempts = 10;

    /// <summary>
    /// Runs <paramref name="attempt"/> (which reads, changes and saves) again from a clean slate when its save lost a race: a
    /// host's version (a report, a placement) or an address another allocation took first.
    /// </summary>
    public static async Task RetryOnRaceAsync(ComputeDbContext db, Func<Task> attempt)
    {
        for (var tried = 1; ; tried++)
        {
            db.ChangeTracker.Clear();
            try
            {
                await attempt();
                return;
            }
            catch (DbUpdateException) when (tried < MaxAttempts)
            {
            }
        }
    }

    /// <summary>
    /// Gives every host of the region its service address on each of the region's connections that lacks one, and raises
    /// every host's desired version: each gets every connection of its region, so a waiting long poll answers at once.
    /// </summary>
    public static async Task ChangedAsync(ComputeDbContext db, string region, IReadOnlyList<NetworkConnection> touched, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var hosts = await db.Hosts.Where(h => h.Region == region).ToListAsync(cancellationToken);
        await NetworkAddresses.EnsureHostAddressesAsync(db, hosts, touched, now, cancellationToken);
        foreach (var host in hosts)
        {
            host.DesiredVersion++;
        }
    }

    /// <summary>The region's connections that hosts realize (not deleted).</summary>
    public static Task<List<NetworkConnection>> LiveAsync(ComputeDbContext db, string region, CancellationToken cancellationToken) =>
        db.NetworkConnections.Where(c => c.Region == region && !c.Deleted).OrderBy(c => c.Id).ToListAsync(cancellationToken);
}

/// <summary>A connection created or changed: compute's copy follows it (never backwards), and every host of its region gets it.</summary>
internal sealed class NetworkConnectionUpsertedHandler(ComputeDbContext db, TimeProvider clock) : IMessageHandler<NetworkConnectionUpserted>
{
    public Task HandleAsync(NetworkConnectionUpserted message, MessageContext context, CancellationToken cancellationToken) =>
        RegionNetworks.RetryOnRaceAsync(db, async () =>
        {
            var now = clock.GetUtcNow();
            var connection = await db.NetworkConnections.FirstOrDefaultAsync(c => c.Id == message.ConnectionId, cancellationToken);
            if (connection is not null && (connection.Deleted || connection.Version >= message.Version))
            {
                // Older than what compute has (events may come out of order), or after its deletion: nothing changes.
                return;
            }

            if (connection is null)
            {
                connection = db.NetworkConnections.Add(new NetworkConnection
                {
                    Id = message.ConnectionId, Region = message.Region, Subnet = message.Subnet, Gateway = message.Gateway,
                    UplinkKind = message.UplinkKind, UplinkInterface = message.UplinkInterface,
                }).Entity;
            }
            else if (connection.Subnet != message.Subnet || connection.Gateway != message.Gateway)
            {
                // Network changes the addressing only of a connection no VM uses: the hosts' service addresses are given again in the new subnet.
                db.NetworkAddresses.RemoveRange(await db.NetworkAddresses.Where(a => a.ConnectionId == connection.Id && a.HostId != null).ToListAsync(cancellationToken));
            }

            connection.TenantId = message.TenantId;
            connection.Region = message.Region;
            connection.Version = message.Version;
            connection.Subnet = message.Subnet;
            connection.Gateway = message.Gateway;
            connection.Mtu = message.Mtu;
            connection.UplinkKind = message.UplinkKind;
            connection.UplinkInterface = message.UplinkInterface;
            connection.VlanId = message.VlanId;
            connection.VxlanId = message.VxlanId;
            connection.VxlanRemote = message.VxlanRemote;
            connection.VxlanPort = message.VxlanPort;
            connection.DnsServers = [.. message.DnsServers ?? []];
            connection.DnsSearchDomain = message.DnsSearchDomain;
            connection.DnsNamesToResolve = [.. message.DnsNamesToResolve ?? []];
            connection.RequiredEndpoints = [.. message.RequiredEndpoints ?? []];
            connection.UpdatedAt = now;
            await RegionNetworks.ChangedAsync(db, connection.Region, [connection], now, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        });
}

/// <summary>
/// A connection deleted: it leaves its region's hosts' desired state and its hosts' service addresses are freed. Compute
/// keeps it as a tombstone: a VM still on it (network refuses to delete one in use, but events race) keeps its NIC
/// until it goes, and a late upsert cannot bring the connection back.
/// </summary>
internal sealed class NetworkConnectionDeletedHandler(ComputeDbContext db, TimeProvider clock) : IMessageHandler<NetworkConnectionDeleted>
{
    public Task HandleAsync(NetworkConnectionDeleted message, MessageContext context, CancellationToken cancellationToken) =>
        RegionNetworks.RetryOnRaceAsync(db, async () =>
        {
            var now = clock.GetUtcNow();
            var connection = await db.NetworkConnections.FirstOrDefaultAsync(c => c.Id == message.ConnectionId, cancellationToken);
            if (connection is { Deleted: true } || connection?.Version > message.Version)
            {
                return;
            }

            connection ??= db.NetworkConnections.Add(new NetworkConnection
            {
                Id = message.ConnectionId, Region = message.Region, Subnet = "", Gateway = "", UplinkKind = "", UplinkInterface = "",
            }).Entity;
            connection.TenantId = message.TenantId;
            connection.Version = message.Version;
            connection.Deleted = true;
            connection.CheckRunId = null;
            connection.UpdatedAt = now;
            db.NetworkAddresses.RemoveRange(await db.NetworkAddresses.Where(a => a.ConnectionId == connection.Id && a.HostId != null).ToListAsync(cancellationToken));
            db.HostNetworkChecks.RemoveRange(await db.HostNetworkChecks.Where(c => c.ConnectionId == connection.Id).ToListAsync(cancellationToken));
            await RegionNetworks.ChangedAsync(db, connection.Region, [], now, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        });
}

/// <summary>A check run asked for: every host of the region gets the run's id in its desired state and checks the connection again.</summary>
internal sealed class NetworkHealthCheckRequestedHandler(ComputeDbContext db, TimeProvider clock) : IMessageHandler<NetworkHealthCheckRequested>
{
    public Task HandleAsync(NetworkHealthCheckRequested message, MessageContext context, CancellationToken cancellationToken) =>
        RegionNetworks.RetryOnRaceAsync(db, async () =>
        {
            var connection = await db.NetworkConnections.FirstOrDefaultAsync(c => c.Id == message.ConnectionId, cancellationToken)
                // Network publishes the connection before its first run; this request overtook it: the queue retries it shortly.
                ?? throw new InvalidOperationException($"Network connection {message.ConnectionId} is not known to compute yet; its check run {message.RunId} is retried.");
            if (connection.Deleted || connection.CheckRunId == message.RunId)
            {
                return;
            }

            connection.CheckRunId = message.RunId;
            await RegionNetworks.ChangedAsync(db, connection.Region, [connection], clock.GetUtcNow(), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        });
}
