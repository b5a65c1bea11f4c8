using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Compute.Persistence;
using Stratus.Compute.Vms;
using Stratus.Platform.Jobs;
using Stratus.Platform.Messaging;

namespace Stratus.Compute.Networks;

/// <summary>
/// Moves a VM's NIC to another connection of its region, or to the hosted network (null). The VM gets its new address at
/// once and keeps the old one until its host reports the NIC on the new connection; then vmNetworkChanged says so (once).
/// A move its host has not reported by the deadline fails and goes back (<see cref="VmNetworkChangeDeadlines"/>).
/// </summary>
internal sealed class ChangeVmNetworkHandler(ComputeDbContext db, IOptions<ComputeOptions> options, TimeProvider clock) : IMessageHandler<ChangeVmNetwork>
{
    public Task HandleAsync(ChangeVmNetwork message, MessageContext context, CancellationToken cancellationToken) =>
        RegionNetworks.RetryOnRaceAsync(db, async () =>
        {
            var now = clock.GetUtcNow();
            var vm = await db.Vms.FirstOrDefaultAsync(v => v.Id == message.VmId && !v.DeleteRequested, cancellationToken);
            if (vm?.NetworkChangeOperationId == message.OperationId)
            {
                // The same move sent again: it is under way or answered already.
                return;
            }

            var refused = vm is null ? $"VM {message.VmId} does not exist (any more)."
                : vm.NetworkChangeDeadline is { } until ? $"Another network change of VM {vm.Id} ({vm.NetworkChangeOperationId}) is under way until {until:u}; try again after it."
                : null;
            var target = message.NetworkConnectionId;
            string? address = null;
            if (refused is null && target is { } connectionId)
            {
                var connection = await db.NetworkConnections.AsNoTracking().FirstOrDefaultAsync(c => c.Id == connectionId, cancellationToken);
                refused = connection is null || connection.Deleted ? $"Network connection {connectionId} is not known to compute (or was deleted); its hosts have not been told of it."
                    : connection.Region != vm!.Region ? $"Network connection {connectionId} is in region {connection.Region}, but VM {vm.Id} is in {vm.Region}; a NIC moves only within its region."
                    : null;
                address = refused is null ? await NetworkAddresses.AllocateVmAsync(db, connection!, vm!.Id, now, cancellationToken) : null;
                refused ??= address is null ? $"Network connection {connectionId} has no free address in {connection!.Subnet}." : null;
            }

            if (refused is not null)
            {
                db.ChangeTracker.Clear();
                db.Publish(new VmNetworkChanged(message.VmId, message.OperationId, target, null, false, refused, now));
                await db.SaveChangesAsync(cancellationToken);
                return;
            }

            vm!.NetworkChangeOperationId = message.OperationId;
            if (vm.NetworkConnectionId == target && vm.ReportedNetworkConnectionId == target)
            {
                db.Publish(new VmNetworkChanged(vm.Id, message.OperationId, target, address, true, null, now));
                await db.SaveChangesAsync(cancellationToken);
                return;
            }

            var host = await db.Hosts.FirstAsync(h => h.Id == vm.HostId, cancellationToken);
            vm.NetworkChangeFrom = vm.NetworkConnectionId;
            vm.NetworkConnectionId = target;
            vm.NetworkChangeDeadline = now + options.Value.Networks.ChangeTimeout;
            vm.Generation++;
            host.DesiredVersion++;
            await db.SaveChangesAsync(cancellationToken);
        });
}

/// <summary>
/// NIC moves whose host did not report the NIC on the new connection in time: vmNetworkChanged says they failed, and the
/// VM goes back to the connection it was on (which kept its address), the new address freed. In the instance that leads it.
/// </summary>
internal sealed partial class VmNetworkChangeDeadlines(IServiceScopeFactory scopes, IOptions<ComputeOptions> options, TimeProvider clock,
    ILogger<VmNetworkChangeDeadlines> logger) : IPeriodicJob
{
    public string Name => "compute.vmNetworkChangeDeadlines";

    public TimeSpan Interval => options.Value.Networks.ChangeCheckInterval;

    public Task RunAsync(CancellationToken cancellationToken) => CheckAsync(cancellationToken);

    internal async Task<int> CheckAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComputeDbContext>();
        var now = clock.GetUtcNow();
        var late = await db.Vms.AsNoTracking().Where(v => v.NetworkChangeDeadline != null).Select(v => new { v.Id, v.NetworkChangeDeadline }).ToListAsync(cancellationToken);
        var failed = 0;
        foreach (var id in late.Where(v => v.NetworkChangeDeadline < now).Select(v => v.Id))
        {
            await RegionNetworks.RetryOnRaceAsync(db, async () =>
            {
                var vm = await db.Vms.FirstOrDefaultAsync(v => v.Id == id && v.NetworkChangeDeadline != null && v.NetworkChangeOperationId != null, cancellationToken);
                if (vm is null)
                {
                    return;
                }

                var host = await db.Hosts.FirstAsync(h => h.Id == vm.HostId, cancellationToken);
                var wanted = vm.NetworkConnectionId;
                await NetworkAddresses.FreeVmAsync(db, vm.Id, cancellationToken, keepOn: vm.NetworkChangeFrom);
                vm.NetworkConnectionId = vm.NetworkChangeFrom;
                vm.NetworkChangeFrom = null;
                vm.NetworkChangeDeadline = null;
                vm.Generation++;
                host.DesiredVersion++;
                var error = $"Host {host.Name} did not report VM {vm.Id}'s NIC on {(wanted?.ToString() ?? "the hosted network")} within {options.Value.Networks.ChangeTimeout}; "
                    + $"the VM stays on {(vm.NetworkConnectionId?.ToString() ?? "the hosted network")}.";
                db.Publish(new VmNetworkChanged(vm.Id, vm.NetworkChangeOperationId!.Value, wanted, null, false, error, now));
                await db.SaveChangesAsync(cancellationToken);
                LogChangeFailed(logger, vm.Id, error);
                failed++;
            });
        }

        return failed;
    }

    [LoggerMessage(EventId = 3030, Level = LogLevel.Warning, Message = "The network change of VM {VmId} failed: {Error}")]
    private static partial void LogChangeFailed(ILogger logger, Guid vmId, string error);
}
