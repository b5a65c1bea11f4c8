namespace Stratus.HostAgent.Drivers;

/// <summary>
/// What the host agent asks of a hypervisor. Every operation is keyed by the VM's id and idempotent, so that
/// a step retried after a crash of the agent (or of its caller) has its effect once: creating a VM that
/// exists with the same spec returns it, starting a running VM or stopping a stopped one changes nothing,
/// deleting a VM that is gone succeeds. VMs outlive the agent process: a new driver over the same data
/// folder finds them with <see cref="AdoptAsync"/>.
/// </summary>
public interface IVmDriver
{
    /// <summary>"qemu", or "simulated" for scale tests.</summary>
    string Name { get; }

    /// <summary>
    /// True when a VM's disk outlives the agent's process (QEMU's files): a VM the host had and no longer has was
    /// lost, and is reported missing rather than made again. False for VMs kept in memory (the simulated driver),
    /// which a restarted agent makes again as a restarted simulated host would.
    /// </summary>
    bool DisksOutliveTheAgent => true;

    /// <summary>
    /// Called once when the agent starts: removes what an interrupted create left behind and returns every
    /// VM with its actual state. A VM whose process is alive and answers is adopted as it runs (never
    /// started twice); one whose process died is <see cref="VmPowerState.Crashed"/>, and the agent either
    /// starts it again or stops it (which clears the crash), as its desired state says.
    /// </summary>
    Task<IReadOnlyList<VmInfo>> AdoptAsync(CancellationToken cancellationToken = default);

    /// <summary>Every VM on this host with its actual state.</summary>
    Task<IReadOnlyList<VmInfo>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>The VM, or null when there is none with this id.</summary>
    Task<VmInfo?> GetAsync(string vmId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates the VM, stopped: its disk is a copy-on-write clone of the image's base disk, grown to the
    /// plan's size. Returns the existing VM when one with the same spec exists; throws
    /// <see cref="VmConflictException"/> when one with another spec does.
    /// </summary>
    Task<VmInfo> CreateAsync(VmSpec spec, CancellationToken cancellationToken = default);

    /// <summary>
    /// Boots the VM and returns once its guest reports ready. A running VM is left as it is (after waiting
    /// for it to be ready). Throws <see cref="VmBootFailedException"/>, with the tail of the serial log,
    /// when the guest is not ready in time; the VM is then stopped.
    /// </summary>
    Task<VmInfo> StartAsync(string vmId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks the guest to power off (ACPI power button) and, when it has not within
    /// <paramref name="gracePeriod"/> (the driver's default when null; zero to skip), turns it off.
    /// </summary>
    Task<VmInfo> StopAsync(string vmId, TimeSpan? gracePeriod = null, CancellationToken cancellationToken = default);

    /// <summary>Stop, then start: a cold restart, so that a pending resize takes effect.</summary>
    Task<VmInfo> RestartAsync(string vmId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Turns the VM off and removes it with its disk and snapshots; nothing is left. Gone already: no-op. Only
    /// compute's order (a <see cref="VmTombstone"/>) deletes a VM: a VM id alone cannot.
    /// </summary>
    Task DeleteAsync(VmTombstone tombstone, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets the VM's size. vCPUs and memory apply at the next boot (<see cref="VmInfo.RestartPending"/>);
    /// the disk grows at once, even while running. Disks never shrink.
    /// </summary>
    Task<VmInfo> ResizeAsync(string vmId, VmSize size, CancellationToken cancellationToken = default);

    /// <summary>Takes a point-in-time snapshot of the VM's disk, running or not. Exists already: returns it.</summary>
    Task<VmSnapshot> CreateSnapshotAsync(string vmId, string snapshotName, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<VmSnapshot>> ListSnapshotsAsync(string vmId, CancellationToken cancellationToken = default);

    /// <summary>Puts the disk back as it was at the snapshot. A running VM is stopped for it and started again.</summary>
    Task<VmInfo> RevertSnapshotAsync(string vmId, string snapshotName, CancellationToken cancellationToken = default);

    /// <summary>Removes the snapshot. Gone already: no-op.</summary>
    Task DeleteSnapshotAsync(string vmId, string snapshotName, CancellationToken cancellationToken = default);

    /// <summary>Writes the disk as it was at the snapshot to a standalone qcow2 file (no backing file), at the disk's current size.</summary>
    Task ExportSnapshotAsync(string vmId, string snapshotName, string destinationPath, CancellationToken cancellationToken = default);

    /// <summary>The last lines the guest wrote on its serial console (for a troubleshoot report).</summary>
    Task<string> ReadSerialLogTailAsync(string vmId, int lines = 40, CancellationToken cancellationToken = default);

    /// <summary>
    /// Copies the VM's disk to the store, running or not: the first copy (or one after the chain was lost) is full,
    /// every later one holds only the blocks written since the previous copy to that store (a persistent dirty bitmap
    /// per store), crash-consistent, appended to the VM's chain in the store and checked by SHA-256.
    /// </summary>
    Task<DiskCopyResult> CopyDiskAsync(string vmId, Copies.ICopyStore store, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"The {Name} driver does not copy disks yet.");

    /// <summary>
    /// Creates the VM, stopped, with its disk made from the latest copy of <paramref name="sourceVmId"/>'s disk in the
    /// store (the source may be this VM's own id, after its host was lost, or another VM's, for disaster recovery),
    /// grown to the spec's size. Idempotent as <see cref="CreateAsync"/>.
    /// </summary>
    Task<VmInfo> CreateFromCopyAsync(VmSpec spec, Copies.ICopyStore store, string sourceVmId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"The {Name} driver does not restore disk copies yet.");

    /// <summary>
    /// Puts the VM's NIC on another network (or the hosted one, null). A running VM is restarted for it, so that its
    /// guest asks the new network's DHCP server for its address. Same NIC: no-op.
    /// </summary>
    Task<VmInfo> SetNicAsync(string vmId, VmNic? nic, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"The {Name} driver does not attach NICs yet.");
}

/// <summary>What one copy shipped: Full or incremental, its bytes against the disk's virtual size, and the chain it ends.</summary>
public sealed record DiskCopyResult(string StoreUri, bool Full, long BytesShipped, long DiskBytes, int ChainLength, DateTimeOffset TakenAt, string Sha256);

/// <summary>What a VM is made of. Equal specs make create idempotent.</summary>
public sealed record VmSpec
{
    /// <summary>Lower-case letters, digits and '-', at most 40 characters (it names a folder and unix sockets).</summary>
    public required string Id { get; init; }

    /// <summary>The folder of a gallery image (its manifest.json, kernel, initrd and base disk).</summary>
    public required string ImagePath { get; init; }

    public required VmSize Size { get; init; }

    /// <summary>The guest's host name; the id when null.</summary>
    public string? HostName { get; init; }

    /// <summary>Appended to the image's kernel command line.</summary>
    public string? KernelArguments { get; init; }

    /// <summary>The NIC on a tenant network connection; null: the hosted network (QEMU's user-mode NAT).</summary>
    public VmNic? Nic { get; init; }
}

/// <summary>
/// A NIC on a tenant network: the tap device TapName (made before QEMU starts, owned by the guest user, a port of
/// Bridge with the connection's Mtu) and the guest's MacAddress, which the connection's DHCP server knows.
/// </summary>
public sealed record VmNic(Guid NetworkId, string TapName, string MacAddress, string Bridge, int Mtu);

/// <summary>A plan's size.</summary>
public sealed record VmSize(int VCpus, int MemoryMiB, int DiskGiB);

public enum VmPowerState
{
    Stopped,
    Running,

    /// <summary>Its process ended without being stopped (killed, host rebooted, QEMU crashed).</summary>
    Crashed,

    /// <summary>Its process is alive but its control channel (QMP) does not answer.</summary>
    Unresponsive,
}

public sealed record VmInfo
{
    public required string Id { get; init; }
    public required VmPowerState PowerState { get; init; }
    public required VmSpec Spec { get; init; }

    /// <summary>True once the guest said it is ready in this boot (only while running).</summary>
    public bool Ready { get; init; }

    /// <summary>The size the running VM booted with.</summary>
    public VmSize? BootedSize { get; init; }

    public int? ProcessId { get; init; }

    /// <summary>"kvm" or "tcg" while running.</summary>
    public string? Accelerator { get; init; }

    public DateTimeOffset? StartedAt { get; init; }
    public required VmConsoleEndpoints Console { get; init; }

    /// <summary>The spec's vCPUs or memory differ from what the running VM booted with.</summary>
    public bool RestartPending => BootedSize is { } booted
        && (booted.VCpus != Spec.Size.VCpus || booted.MemoryMiB != Spec.Size.MemoryMiB);
}

/// <summary>Where the gateway and the diagnostics find the VM's display and consoles (valid while running).</summary>
public sealed record VmConsoleEndpoints(string VncSocketPath, string SerialSocketPath, string SerialLogPath);

public sealed record VmSnapshot(string Name, DateTimeOffset CreatedAt);
