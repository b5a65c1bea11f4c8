namespace Stratus.HostAgent.Confinement;

/// <summary>How a host keeps its guests' QEMU processes confined (docs/adr/0007-guest-confinement.md).</summary>
public sealed record GuestConfinementOptions
{
    /// <summary>The unprivileged system user every QEMU process of the host runs as; created when missing.</summary>
    public string User { get; init; } = "stratus-vm";

    /// <summary>
    /// Networks a guest never reaches besides the host's own addresses: the control plane's and the database's
    /// when they run on other machines (CIDRs, IPv4 or IPv6).
    /// </summary>
    public IReadOnlyList<string> ControlPlaneNetworks { get; init; } = [];

    /// <summary>
    /// What QEMU itself may use on top of the guest's memory (its code, device state, and under TCG the translation
    /// cache, which the command line bounds to <see cref="TranslationCacheMiB"/>): memory limit = plan + this.
    /// </summary>
    public int MemoryOverheadMiB { get; init; } = 512;

    /// <summary>The TCG translation cache (QEMU's tb-size); QEMU's default of 1 GiB would dwarf a small plan.</summary>
    public int TranslationCacheMiB { get; init; } = 256;
}
