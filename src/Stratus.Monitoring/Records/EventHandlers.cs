using Stratus.Monitoring.Rules;
using Stratus.Platform.Messaging;

namespace Stratus.Monitoring.Records;

// One handler per message: each says which rule's impact its event raises or clears, on which subject. Their inbox is
// the monitoring store's (Alerting saves the effect and the inbox record together).

/// <summary>A failed Cloud PC is a provisioning impact until it becomes anything else; a Cloud PC in grace period likewise.</summary>
internal sealed class CloudPcStatusChangedHandler(Alerting alerting) : IMessageHandler<CloudPcStatusChanged>
{
    public Task HandleAsync(CloudPcStatusChanged message, MessageContext context, CancellationToken cancellationToken)
    {
        var subject = $"cloudPc:{message.CloudPcId}";
        var now = $"Cloud PC {message.CloudPcId} is {message.Status} now.";
        return alerting.ChangeAsync(
        [
            new ImpactChange(message.TenantId, AlertRuleTemplate.CloudPcProvisionScenario, subject,
                message.Status == "failed" ? $"Cloud PC {message.CloudPcId} failed ({message.StatusDetailCode ?? "no detail code"})." : now, Raised: message.Status == "failed"),
            new ImpactChange(message.TenantId, AlertRuleTemplate.CloudPcInGracePeriodScenario, subject,
                message.Status == "inGracePeriod" ? $"Cloud PC {message.CloudPcId} is in its grace period and will be deprovisioned when it ends." : now,
                Raised: message.Status == "inGracePeriod"),
        ], cancellationToken);
    }
}

internal sealed class DeviceImageFailedHandler(Alerting alerting) : IMessageHandler<DeviceImageFailed>
{
    public Task HandleAsync(DeviceImageFailed message, MessageContext context, CancellationToken cancellationToken) =>
        alerting.RaiseAsync(message.TenantId, AlertRuleTemplate.CloudPcImageUploadScenario, $"image:{message.Id}",
            $"Image {message.DisplayName} {message.Version} failed: {message.ErrorCode}: {message.StatusDetails}", cancellationToken);
}

/// <summary>The administrator deleted the failed image: it no longer needs attention.</summary>
internal sealed class DeviceImageDeletedHandler(Alerting alerting) : IMessageHandler<DeviceImageDeleted>
{
    public Task HandleAsync(DeviceImageDeleted message, MessageContext context, CancellationToken cancellationToken) =>
        alerting.ClearAsync(message.TenantId, AlertRuleTemplate.CloudPcImageUploadScenario, $"image:{message.Id}",
            $"Image {message.DisplayName} {message.Version} was deleted.", cancellationToken);
}

internal sealed class NetworkConnectionHealthChangedHandler(Alerting alerting) : IMessageHandler<NetworkConnectionHealthChanged>
{
    public Task HandleAsync(NetworkConnectionHealthChanged message, MessageContext context, CancellationToken cancellationToken)
    {
        var subject = $"connection:{message.ConnectionId}";
        var detail = $"Network connection {message.DisplayName}: its checks {message.Status}.";
        return message.Status == "failed"
            ? alerting.RaiseAsync(message.TenantId, AlertRuleTemplate.CloudPcOnPremiseNetworkConnectionCheckScenario, subject, detail, cancellationToken)
            : alerting.ClearAsync(message.TenantId, AlertRuleTemplate.CloudPcOnPremiseNetworkConnectionCheckScenario, subject, detail, cancellationToken);
    }
}

/// <summary>Hosts belong to the platform, so their rule is the platform operator's.</summary>
internal sealed class HostDownHandler(Alerting alerting) : IMessageHandler<HostDown>
{
    public Task HandleAsync(HostDown message, MessageContext context, CancellationToken cancellationToken) =>
        alerting.RaiseAsync(AlertScope.Platform, AlertRuleTemplate.CloudPcInaccessibleScenario, $"host:{message.HostId}",
            $"Host {message.Name} ({message.Region}/{message.Zone}) is down: last heartbeat {message.LastHeartbeatAt:u}.", cancellationToken);
}

internal sealed class HostUpHandler(Alerting alerting) : IMessageHandler<HostUp>
{
    public Task HandleAsync(HostUp message, MessageContext context, CancellationToken cancellationToken) =>
        alerting.ClearAsync(AlertScope.Platform, AlertRuleTemplate.CloudPcInaccessibleScenario, $"host:{message.HostId}",
            $"Host {message.Name} ({message.Region}/{message.Zone}) is up again.", cancellationToken);
}

internal sealed class DiskCopyStaleHandler(Alerting alerting) : IMessageHandler<DiskCopyStale>
{
    public Task HandleAsync(DiskCopyStale message, MessageContext context, CancellationToken cancellationToken) =>
        // A VM of no tenant (an operator's) has no tenant rule to raise.
        message.TenantId is { } tenant
            ? alerting.RaiseAsync(tenant, AlertRuleTemplate.CloudPcDiskCopyScenario, $"diskCopy:{message.VmId}:{message.Region}",
                $"The disk copies of VM {message.VmId} to {message.Region} are late (latest {message.LatestCopyAt?.ToString("u") ?? "none"}): {message.Reason}", cancellationToken)
            : Task.CompletedTask;
}

internal sealed class DiskCopyHealthyHandler(Alerting alerting) : IMessageHandler<DiskCopyHealthy>
{
    public Task HandleAsync(DiskCopyHealthy message, MessageContext context, CancellationToken cancellationToken) =>
        message.TenantId is { } tenant
            ? alerting.ClearAsync(tenant, AlertRuleTemplate.CloudPcDiskCopyScenario, $"diskCopy:{message.VmId}:{message.Region}",
                $"The disk copies of VM {message.VmId} to {message.Region} are on time again.", cancellationToken)
            : Task.CompletedTask;
}
