using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Platform.Audit;
using Stratus.Platform.Messaging;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.Network;

/// <summary>
/// Asks network for the first usable connection of the Cloud PC's policy, then places its VM there (its region the
/// connection's), with an audit record per connection skipped, in one transaction. None usable: the provisioning
/// fails and says why for each. Network not reachable: asked again after RetryBackoff until the step's deadline
/// (OrchestrationHandlers fails it then). A redelivery finds the step moved on and changes nothing.
/// </summary>
internal sealed partial class SelectNetworkHandler(
    ProvisioningDbContext db, Lifecycle lifecycle, NetworkClient network, IOptions<ProvisioningOptions> options, TimeProvider clock, ILogger<SelectNetworkHandler> logger)
    : IMessageHandler<SelectNetworkConnection>
{
    /// <summary>statusDetail code: no connection of the policy passes its checks.</summary>
    public const string Unhealthy = "networkConnectionUnhealthy";

    /// <summary>statusDetail code: the network service could not be asked within the step's deadline.</summary>
    public const string NetworkUnavailable = "networkServiceUnreachable";

    public async Task HandleAsync(SelectNetworkConnection message, MessageContext context, CancellationToken cancellationToken)
    {
        var pc = await db.CloudPcs.FirstOrDefaultAsync(p => p.Id == message.CloudPcId && p.StepToken == message.StepToken, cancellationToken);
        if (pc is not { Step: CloudPcStep.SelectingNetwork })
        {
            return;
        }

        var policy = await db.Policies.FindAsync([pc.ProvisioningPolicyId], cancellationToken);
        var order = policy?.NetworkConnectionIds is { Count: > 0 } ids ? ids : [NetworkClient.Hosted];
        SelectionBody selection;
        ConnectionBody? chosen = null;
        try
        {
            selection = await network.SelectAsync(pc.TenantId, order, cancellationToken);
            if (Guid.TryParse(selection.ConnectionId, out var chosenId))
            {
                chosen = await network.ConnectionAsync(pc.TenantId, chosenId, cancellationToken);
            }
        }
        catch (NetworkUnavailableException e)
        {
            LogUnavailable(logger, pc.Id, e.Message);
            Lifecycle.SetDetail(pc, NetworkUnavailable, e.Message, retryable: true);
            lifecycle.Touch(pc);
            db.Publish(message, clock.GetUtcNow() + options.Value.RetryBackoff);
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        var skipped = selection.Skipped ?? [];
        foreach (var skip in skipped)
        {
            db.Audit(clock, pc.TenantId, AuditActor.System("provisioning"), "cloudPc", NetworkAudit.Skipped,
                $"{pc.ManagedDeviceName} of {pc.UserPrincipalName} skipped network connection {Describe(skip)}: {skip.Reason}", false,
                NetworkAudit.CloudPcResource(pc), NetworkAudit.ConnectionResource(skip.ConnectionId, skip.DisplayName));
        }

        Lifecycle.ClearDetail(pc);
        if (selection.ConnectionId is null)
        {
            var why = skipped.Count == 0 ? "network named no usable entry." : string.Join("; ", skipped.Select(s => $"{Describe(s)}: {s.Reason}"));
            lifecycle.FailProvisioning(pc, Unhealthy,
                $"No network connection of policy {pc.ProvisioningPolicyName} is usable: {why}. Fix the connections' checks (or add another to the policy) and retry the Cloud PC.");
        }
        else if (selection.ConnectionId == NetworkClient.Hosted)
        {
            Lifecycle.SetNetwork(pc, null, null);
            lifecycle.PlaceOnNetwork(pc);
        }
        else
        {
            Lifecycle.SetNetwork(pc, Guid.Parse(selection.ConnectionId), chosen?.DisplayName);
            pc.RegionName = selection.RegionName ?? chosen?.RegionName ?? pc.RegionName;
            lifecycle.PlaceOnNetwork(pc);
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private static string Describe(SkippedConnectionBody skip) => skip.DisplayName is { } name ? $"{name} ({skip.ConnectionId})" : skip.ConnectionId;

    [LoggerMessage(EventId = 7460, Level = LogLevel.Warning, Message = "Cloud PC {CloudPcId} waits for the network service to choose its connection: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, Guid cloudPcId, string reason);
}
