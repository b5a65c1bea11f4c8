namespace Stratus.HostAgent.Drivers.Qemu;

/// <summary>How the QEMU driver runs VMs on this host. Immutable: one instance for the driver's life.</summary>
public sealed record QemuDriverOptions
{
    /// <summary>
    /// The agent's data folder: VMs live in DATA/vms/ID/. Short (at most 48 characters): the unix sockets of
    /// QEMU live under it and a socket path is limited to 107 bytes.
    /// </summary>
    public required string DataDirectory { get; init; }

    public string QemuSystem { get; init; } = "qemu-system-x86_64";
    public string QemuImg { get; init; } = "qemu-img";

    /// <summary>Holds a stopped VM's disk open for a copy (the same QMP commands as a running VM's QEMU).</summary>
    public string QemuStorageDaemon { get; init; } = "qemu-storage-daemon";

    /// <summary>The most increments a VM's chain in a store holds; beyond, the full and the oldest increment are merged.</summary>
    public int DiskCopyMaxIncrements { get; init; } = 12;
    public AcceleratorMode Accelerator { get; init; } = AcceleratorMode.Auto;

    /// <summary>How long a KVM boot may take to reach user space before the probe settles for TCG.</summary>
    public TimeSpan KvmProbeTimeout { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>How long a boot may take to report ready. Generous: TCG on a busy host is slow.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>How long a guest has to power off after the ACPI power button before it is turned off.</summary>
    public TimeSpan GracefulStopTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The budget of one QMP exchange (connect, negotiate, command).</summary>
    public TimeSpan QmpTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The budget of one qemu-img run (a snapshot export copies the whole disk).</summary>
    public TimeSpan QemuImgTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How VMs are confined: QEMU's user, the guest firewall, the cgroup limits. Always on (no VM starts without).</summary>
    public Confinement.GuestConfinementOptions Confinement { get; init; } = new();

    internal const int MaxDataDirectoryLength = 48;
}
