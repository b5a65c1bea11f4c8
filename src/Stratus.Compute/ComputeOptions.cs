namespace Stratus.Compute;

public sealed class RegionOptions
{
    public string Name { get; set; } = "";

    public string DisplayName { get; set; } = "";

    public List<string> Zones { get; set; } = [];
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

    /// <summary>How often finished operations and confirmed tombstones past their retention are pruned.</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);

    public IReadOnlyList<RegionOptions> EffectiveRegions => Regions.Count > 0 ? Regions :
    [
        new RegionOptions { Name = "local-1", DisplayName = "Local region 1", Zones = ["local-1a"] },
        new RegionOptions { Name = "local-2", DisplayName = "Local region 2", Zones = ["local-2a"] },
    ];
}
