namespace Stratus.Compute;

public sealed class RegionOptions
{
    public string Name { get; set; } = "";

    public string DisplayName { get; set; } = "";

    public List<string> Zones { get; set; } = [];

    /// <summary>
    /// Where the region's VMs' disk copies go (file:///PATH on a mount the region shares, or s3://BUCKET/PREFIX?endpoint=URL);
    /// null: the region keeps no copies, and its hosts' VMs cannot be recovered when a host is lost.
    /// </summary>
    public string? CopyStore { get; set; }
}

/// <summary>Stratus:Compute:DiskCopies: the copy policy of a VM placed without one.</summary>
public sealed class DiskCopyOptions
{
    public TimeSpan DefaultInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the leader checks every VM's copies for staleness.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Stratus:Compute:Networks.</summary>
public sealed class NetworkOptions
{
    /// <summary>
    /// How long a placement waits for a network connection compute does not know yet (network's event may come after the
    /// placement that names it) before it fails.
    /// </summary>
    public TimeSpan UnknownConnectionWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a VM's host has to report its NIC on the new connection before the move fails and goes back.</summary>
    public TimeSpan ChangeTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the leader looks for NIC moves past their deadline.</summary>
    public TimeSpan ChangeCheckInterval { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Regions and zones come from configuration (Stratus:Compute); all-in-one gets two local regions.</summary>
public sealed class ComputeOptions
{
    public List<RegionOptions> Regions { get; set; } = [];

    /// <summary>A host whose last heartbeat is older than this is down.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an agent's desired-state request waits for a change before it answers anyway.</summary>
    public TimeSpan LongPollTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long a finished VM operation is kept: it answers GET .../operations/{id} and makes a redelivered
    /// RunVmOperation a no-op, which arrives within minutes, not days.
    /// </summary>
    public TimeSpan FinishedOperationRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How long a tombstone is kept once its host confirmed the deletion: it keeps a late or redelivered placement
    /// from bringing the VM back. A tombstone its host has not confirmed is never pruned.
    /// </summary>
    public TimeSpan TombstoneRetention { get; set; } = TimeSpan.FromDays(30);

    public DiskCopyOptions DiskCopies { get; set; } = new();

    /// <summary>
    /// How long a host stays down before its VMs are made again on other hosts of its region from their latest disk
    /// copies (HostLossRecovery). Shorter loses less time; too short moves VMs off a host that only rebooted.
    /// </summary>
    public TimeSpan HostLossGrace { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The folder under which the built-in local regions (no Regions configured: `stratus up`) keep their copies, one
    /// folder per region, outside every host's data folder as a mount the region shares would be. Set by the server to
    /// DATA/copies; configured regions name their own store.
    /// </summary>
    public string? LocalCopyStoreFolder { get; set; }

    /// <summary>The region's copy store URI, or null.</summary>
    public string? CopyStoreOf(string region) =>
        EffectiveRegions.FirstOrDefault(r => r.Name == region) is not { } found ? null
        : found.CopyStore is { Length: > 0 } uri ? uri
        : Regions.Count == 0 && LocalCopyStoreFolder is { Length: > 0 } folder ? "file://" + Path.Combine(Path.GetFullPath(folder), region)
        : null;

    /// <summary>Stratus:Compute:Networks: placing on and moving between network connections (issue 20).</summary>
    public NetworkOptions Networks { get; set; } = new();

    /// <summary>How often finished operations and confirmed tombstones past their retention are pruned.</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);

    public IReadOnlyList<RegionOptions> EffectiveRegions => Regions.Count > 0 ? Regions :
    [
        new RegionOptions { Name = "local-1", DisplayName = "Local region 1", Zones = ["local-1a"] },
        new RegionOptions { Name = "local-2", DisplayName = "Local region 2", Zones = ["local-2a"] },
    ];
}
