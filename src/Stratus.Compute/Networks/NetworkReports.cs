using Microsoft.EntityFrameworkCore;
using Stratus.Compute.Agents;
using Stratus.Compute.Hosts;
using Stratus.Compute.Persistence;
using Stratus.Compute.Vms;
using Stratus.Platform.Messaging;

namespace Stratus.Compute.Networks;

/// <summary>
/// The network part of a host's report: its interfaces, its service addresses (given here too, so a host that enrolled
/// while a connection was being added, or one whose subnet was full, gets one), its VMs' NICs (a NIC move succeeds when
/// the host reports the VM on the new connection), and its checks, relayed to network once per (host, connection, CheckedAt).
/// </summary>
internal static class NetworkReports
{
    private const int MaxInterfaces = 256;
    private const int MaxInterfaceName = 64;

    public static async Task ApplyAsync(ComputeDbContext db, Host host, AgentReport? report, IReadOnlyDictionary<Guid, Vm> vms, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        if (report?.Interfaces is { } interfaces)
        {
            var names = interfaces.Where(n => n is { Length: > 0 and <= MaxInterfaceName }).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(MaxInterfaces).ToList();
            if (host.Interfaces is null || !host.Interfaces.SequenceEqual(names))
            {
                host.Interfaces = names;
            }
        }

        // Only connections this host has no address on are looked at: a report comes every few seconds, and reading every
        // connection's addresses each time would cost as much as the region has VMs on connections.
        var held = await db.NetworkAddresses.AsNoTracking().Where(a => a.HostId == host.Id).Select(a => a.ConnectionId).ToListAsync(cancellationToken);
        var lacking = (await RegionNetworks.LiveAsync(db, host.Region, cancellationToken)).Where(c => !held.Contains(c.Id)).ToList();
        if (lacking.Count > 0 && (await NetworkAddresses.EnsureHostAddressesAsync(db, [host], lacking, now, cancellationToken)).Count > 0)
        {
            host.DesiredVersion++;
        }

        foreach (var reported in report?.Vms ?? [])
        {
            if (vms.TryGetValue(reported.Id, out var vm))
            {
                await ApplyNicAsync(db, vm, reported, now, cancellationToken);
            }
        }

        await RelayChecksAsync(db, host, report?.Networks ?? [], cancellationToken);
    }

    private static async Task ApplyNicAsync(ComputeDbContext db, Vm vm, ReportedVm reported, DateTimeOffset now, CancellationToken cancellationToken)
    {
        vm.ReportedNetworkConnectionId = reported.NetworkConnectionId;
        if (vm.NetworkChangeDeadline is null || reported.NetworkConnectionId != vm.NetworkConnectionId || vm.NetworkChangeOperationId is not { } operation)
        {
            return;
        }

        // The NIC is on the new connection: the move is done, and the old address is free for another VM.
        var address = await NetworkAddresses.OfVmAsync(db, vm.Id, vm.NetworkConnectionId, cancellationToken);
        await NetworkAddresses.FreeVmAsync(db, vm.Id, cancellationToken, keepOn: vm.NetworkConnectionId);
        vm.NetworkChangeDeadline = null;
        vm.NetworkChangeFrom = null;
        db.Publish(new VmNetworkChanged(vm.Id, operation, vm.NetworkConnectionId, address, true, null, now));
    }

    private static async Task RelayChecksAsync(ComputeDbContext db, Host host, IReadOnlyList<ReportedNetwork> networks, CancellationToken cancellationToken)
    {
        var checkedOnes = networks.Where(n => n.CheckedAt is not null).GroupBy(n => n.Id).Select(g => g.First()).ToList();
        if (checkedOnes.Count == 0)
        {
            return;
        }

        var ids = checkedOnes.Select(n => n.Id).ToList();
        var known = await db.NetworkConnections.AsNoTracking().Where(c => ids.Contains(c.Id) && !c.Deleted).Select(c => c.Id).ToListAsync(cancellationToken);
        var published = await db.HostNetworkChecks.Where(c => c.HostId == host.Id && ids.Contains(c.ConnectionId)).ToDictionaryAsync(c => c.ConnectionId, cancellationToken);
        int? regionHostCount = null;
        foreach (var network in checkedOnes.Where(n => known.Contains(n.Id)))
        {
            // Kept to the millisecond, which both stores hold exactly (SQLite's ticks are coarser than the agent's clock).
            var checkedAt = network.CheckedAt!.Value;
            var kept = new DateTimeOffset(checkedAt.UtcTicks - (checkedAt.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
            if (published.TryGetValue(network.Id, out var last) && last.CheckedAt >= kept)
            {
                continue;
            }

            // Up now: this host (it reports) and every other of its region not down.
            regionHostCount ??= 1 + await db.Hosts.CountAsync(h => h.Region == host.Region && h.Id != host.Id && h.State != HostState.Down, cancellationToken);
            db.Publish(new NetworkChecksReported(network.Id, network.CheckRunId, host.Id, host.Name, host.Region, regionHostCount.Value, network.Realized, network.Error,
                network.Checks ?? [], checkedAt));
            if (last is null)
            {
                db.HostNetworkChecks.Add(new HostNetworkCheck { HostId = host.Id, ConnectionId = network.Id, CheckedAt = kept });
            }
            else
            {
                last.CheckedAt = kept;
            }
        }
    }
}
