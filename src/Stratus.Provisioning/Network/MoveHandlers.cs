using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Platform.Audit;
using Stratus.Platform.Messaging;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.Network;

/// <summary>
/// The move of Cloud PCs off a connection, one at a time: MoveNextCloudPc asks network for the next usable
/// connection of the Cloud PC's policy (the one left excluded) and sends compute the NIC change with a deadline;
/// compute's vmNetworkChanged or the deadline, whichever comes first, audits the outcome and starts the next. Every
/// step is matched on the move's current operation, so a redelivered or late message changes nothing.
/// </summary>
internal sealed class MoveHandlers(ProvisioningDbContext db, NetworkClient network, IOptions<ProvisioningOptions> options, TimeProvider clock) :
    IMessageHandler<MoveNextCloudPc>, IMessageHandler<VmNetworkChanged>, IMessageHandler<CloudPcMoveDeadline>
{
    private static readonly AuditActor Actor = AuditActor.System("provisioning");

    public async Task HandleAsync(MoveNextCloudPc message, MessageContext context, CancellationToken cancellationToken)
    {
        var move = await db.NetworkMoves.FindAsync([message.MoveId], cancellationToken);
        if (move is null || move.CompletedAt is not null || move.CurrentOperationId is not null)
        {
            return;
        }

        if (move.Done >= move.CloudPcIds.Count)
        {
            move.CompletedAt = clock.GetUtcNow();
            move.Version = Guid.NewGuid();
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        var pc = await db.CloudPcs.FindAsync([move.CloudPcIds[move.Done]], cancellationToken);
        if (pc is null || pc.NetworkConnectionId != move.FromConnectionId || pc.Status is not (CloudPcStatus.Provisioned or CloudPcStatus.InGracePeriod))
        {
            if (pc is not null)
            {
                Failed(move, pc, $"it was no longer a running Cloud PC on that connection when its turn came (status {Lifecycle.ToGraph(pc.Status)}, on {NetworkAudit.Name(pc.NetworkConnectionId, pc.NetworkConnectionName)})");
            }

            Advance(move);
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        await StartAsync(move, pc, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task StartAsync(NetworkMove move, CloudPc pc, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        move.CurrentStartedAt ??= now;
        move.Version = Guid.NewGuid();
        var policy = await db.Policies.FindAsync([pc.ProvisioningPolicyId], cancellationToken);
        var left = move.FromConnectionId.ToString("D");
        var order = (policy?.NetworkConnectionIds is { Count: > 0 } ids ? ids : [NetworkClient.Hosted]).Where(c => c != left).ToList();
        SelectionBody selection;
        ConnectionBody? chosen = null;
        try
        {
            selection = order.Count == 0 ? new SelectionBody(null, null, []) : await network.SelectAsync(pc.TenantId, order, cancellationToken);
            if (Guid.TryParse(selection.ConnectionId, out var chosenId))
            {
                chosen = await network.ConnectionAsync(pc.TenantId, chosenId, cancellationToken);
            }
        }
        catch (NetworkUnavailableException e)
        {
            if (now - move.CurrentStartedAt < options.Value.NetworkMoveTimeout)
            {
                db.Publish(new MoveNextCloudPc(move.Id), now + options.Value.RetryBackoff);
                return;
            }

            Failed(move, pc, $"the network service, which chooses the next connection, could not be asked within {options.Value.NetworkMoveTimeout:c}: {e.Message}");
            Advance(move);
            return;
        }

        var from = NetworkAudit.Name(pc.NetworkConnectionId, pc.NetworkConnectionName);
        if (selection.ConnectionId is null)
        {
            var why = string.Join("; ", (selection.Skipped ?? []).Select(s => $"{s.DisplayName ?? s.ConnectionId}: {s.Reason}"));
            Failed(move, pc, $"its policy {pc.ProvisioningPolicyName} has no other usable network connection ({(why.Length == 0 ? "it names no other" : why)}); it stays on {from}");
            Advance(move);
            return;
        }

        var target = selection.ConnectionId == NetworkClient.Hosted ? (Guid?)null : Guid.Parse(selection.ConnectionId);
        var region = selection.RegionName ?? chosen?.RegionName;
        if (target is not null && region is not null && region != pc.RegionName)
        {
            // A NIC moves between bridges of one host; another region's connection needs another VM (a reprovision).
            Failed(move, pc, $"the next usable connection, {NetworkAudit.Name(target, chosen?.DisplayName)}, is in region {region} and the Cloud PC in {pc.RegionName}; it stays on {from} (reprovision it to move it)");
            Advance(move);
            return;
        }

        move.CurrentOperationId = Guid.CreateVersion7(now);
        move.CurrentTargetId = target;
        move.CurrentTargetName = chosen?.DisplayName;
        db.Publish(new ChangeVmNetwork(pc.VmId, move.CurrentOperationId.Value, target));
        db.Publish(new CloudPcMoveDeadline(move.Id, move.CurrentOperationId.Value), now + options.Value.NetworkMoveTimeout);
    }

    public async Task HandleAsync(VmNetworkChanged message, MessageContext context, CancellationToken cancellationToken)
    {
        var pc = await db.CloudPcs.FirstOrDefaultAsync(p => p.VmId == message.VmId, cancellationToken);
        var move = await db.NetworkMoves.FirstOrDefaultAsync(m => m.CurrentOperationId == message.OperationId, cancellationToken);
        if (pc is not null && message.Succeeded)
        {
            // Compute's word is what the NIC is on, even when the move gave up waiting for it.
            var from = NetworkAudit.Name(pc.NetworkConnectionId, pc.NetworkConnectionName);
            var name = move is not null ? move.CurrentTargetName : message.NetworkConnectionId == pc.NetworkConnectionId ? pc.NetworkConnectionName : null;
            Lifecycle.SetNetwork(pc, message.NetworkConnectionId, name);
            pc.IpAddress = message.IpAddress;
            pc.Version = Guid.NewGuid();
            if (move is not null)
            {
                db.Audit(clock, pc.TenantId, Actor, "cloudPc", NetworkAudit.Moved,
                    $"Moved {pc.ManagedDeviceName} of {pc.UserPrincipalName} from network connection {from} to {NetworkAudit.Name(message.NetworkConnectionId, name)}: {move.Reason}",
                    true, NetworkAudit.CloudPcResource(pc));
            }
        }
        else if (pc is not null && move is not null)
        {
            Failed(move, pc, $"compute could not move its NIC: {message.Error ?? "no reason given"}");
        }

        if (move is not null)
        {
            Advance(move);
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task HandleAsync(CloudPcMoveDeadline message, MessageContext context, CancellationToken cancellationToken)
    {
        var move = await db.NetworkMoves.FindAsync([message.MoveId], cancellationToken);
        if (move is null || move.CurrentOperationId != message.OperationId)
        {
            return;
        }

        if (await db.CloudPcs.FindAsync([move.CloudPcIds[move.Done]], cancellationToken) is { } pc)
        {
            Failed(move, pc, $"compute did not confirm the NIC change to {NetworkAudit.Name(move.CurrentTargetId, move.CurrentTargetName)} within its deadline ({options.Value.NetworkMoveTimeout:c}); it is no longer waited for");
        }

        Advance(move);
        await db.SaveChangesAsync(cancellationToken);
    }

    private void Failed(NetworkMove move, CloudPc pc, string why) =>
        db.Audit(clock, pc.TenantId, Actor, "cloudPc", NetworkAudit.MoveFailed,
            $"Did not move {pc.ManagedDeviceName} of {pc.UserPrincipalName} off network connection {move.FromConnectionId}: {why}. Asked: {move.Reason}", false,
            NetworkAudit.CloudPcResource(pc));

    /// <summary>The current Cloud PC is done: the next one's turn, through the queue (durable, one at a time).</summary>
    private void Advance(NetworkMove move)
    {
        move.Done++;
        move.CurrentOperationId = null;
        move.CurrentTargetId = null;
        move.CurrentTargetName = null;
        move.CurrentStartedAt = null;
        move.Version = Guid.NewGuid();
        db.Publish(new MoveNextCloudPc(move.Id));
    }
}
