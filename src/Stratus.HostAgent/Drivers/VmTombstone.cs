namespace Stratus.HostAgent.Drivers;

/// <summary>
/// Compute's explicit order to delete one VM: the only thing <see cref="IVmDriver.DeleteAsync"/> takes. The agent
/// gets one only from a desired state that marks the VM deleted (DesiredState.Deletions), never from a VM it merely
/// finds on its disk, so that no desired state that is empty, stale or another host's can cost a user their disk.
/// </summary>
public sealed class VmTombstone
{
    private VmTombstone(string vmId)
    {
        VmId = vmId;
    }

    /// <summary>The driver's name of the VM to delete.</summary>
    public string VmId { get; }

    /// <summary>Issued by the agent's protocol for a VM compute marked deleted (and by tests of the drivers).</summary>
    internal static VmTombstone Issue(string vmId) => new(vmId);

    public override string ToString() => VmId;
}
