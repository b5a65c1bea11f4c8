namespace Stratus.Provisioning.CloudPcs;

/// <summary>Placing a VM on the network connection its policy's order and network's checks give it (issue 20).</summary>
public sealed partial class Lifecycle
{
    /// <summary>
    /// Places the VM, after network chose its connection when the policy names one of the tenant's own: that choice
    /// needs a call, made by SelectNetworkHandler outside this transaction. A hosted-only policy places at once, as
    /// before network connections existed, and never needs the network service.
    /// </summary>
    public void Place(CloudPc pc)
    {
        if (db.Policies.Find(pc.ProvisioningPolicyId) is { } policy && Network.NetworkClient.NamesCustom(policy.NetworkConnectionIds))
        {
            StartStep(pc, CloudPcStep.SelectingNetwork, Options.NetworkSelectionTimeout);
            db.Publish(new SelectNetworkConnection(pc.Id, pc.StepToken));
            return;
        }

        SetNetwork(pc, null, null);
        PlaceOnNetwork(pc);
    }

    /// <summary>Places the VM on the Cloud PC's connection (chosen already: hosted or network's choice).</summary>
    public void PlaceOnNetwork(CloudPc pc)
    {
        db.Publish(PlaceVmOf(pc));
        StartStep(pc, CloudPcStep.Placing, Options.PlaceTimeout);
    }

    /// <summary>The connection the Cloud PC goes on (null: hosted); its address is compute's to report.</summary>
    public static void SetNetwork(CloudPc pc, Guid? connectionId, string? connectionName)
    {
        ArgumentNullException.ThrowIfNull(pc);
        pc.NetworkConnectionId = connectionId;
        pc.NetworkConnectionName = connectionId is null ? null : connectionName;
        pc.IpAddress = null;
    }

    private PlaceVm PlaceVmOf(CloudPc pc) =>
        new(pc.VmId, pc.TenantId, pc.RegionName, pc.ImageId, pc.VCpuCount, pc.MemoryMiB, pc.DiskGiB, Copies: CopyPolicy(pc, EffectiveSetting(pc)),
            NetworkConnectionId: pc.NetworkConnectionId);

    /// <summary>The provisioning cannot go on for its network (none usable, network not reachable in time): failed, retryable.</summary>
    public void FailProvisioning(CloudPc pc, string code, string message)
    {
        EndStep(pc);
        SetDetail(pc, code, message, retryable: true);
        SetStatus(pc, CloudPcStatus.Failed);
        CompleteActiveOperation(pc, OperationStatus.Failed, pc.StatusDetailMessage);
        LogFailed(log, pc.ManagedDeviceName, pc.Id, code, pc.StatusDetailMessage ?? "");
    }
}
