namespace Stratus.Provisioning;

/// <summary>Stratus:Provisioning. The defaults suit the tiny image under TCG on a small machine.</summary>
public sealed class ProvisioningOptions
{
    /// <summary>
    /// The regions with a copy store (from compute's configuration, AssignmentEvaluator.RegionsWithCopyStore; not a
    /// setting of its own). Null: not known, nothing is checked.
    /// </summary>
    public IReadOnlySet<string>? CopyStoreRegions { get; set; }

    /// <summary>How long a placement may take before the step counts as failed.</summary>
    public TimeSpan PlaceTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long choosing a network connection may take (network unreachable: asked again every RetryBackoff until
    /// then); network itself waits up to 30 s for a pre-provisioning check run.
    /// </summary>
    public TimeSpan NetworkSelectionTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long one Cloud PC's move to another network connection may take before it counts as failed.</summary>
    public TimeSpan NetworkMoveTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a placed VM may take to boot and report ready.</summary>
    public TimeSpan BootTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long deleting a VM may take before it is asked again.</summary>
    public TimeSpan DeleteTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The first retry's delay; the second waits twice as long.</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The length of one hour of a policy's gracePeriodInHours. Only tests and demos shorten it, to see a grace
    /// period end in seconds; it is never a way to change the period of a real policy.
    /// </summary>
    public TimeSpan GracePeriodHour { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often every tenant's directory copy is reconciled with identity's full state.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A Cloud PC resizing with no operation this long is a resize whose process stopped half-way (a live one takes
    /// seconds there); the reconciliation finishes or undoes it.
    /// </summary>
    public TimeSpan StalledResizeAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>At most this many Cloud PCs in one bulk action.</summary>
    public int MaxBulkItems { get; set; } = 5000;

    /// <summary>How often each instance looks for due restore points and expired ones.</summary>
    public TimeSpan RestorePointScanInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The length of one hour of a restore point frequency (fourHours is 4 of them). Only tests and demos shorten
    /// it, to see scheduled points in seconds.
    /// </summary>
    public TimeSpan RestorePointHour { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Where the embedded hosts of `stratus up` write exported restore points, one folder per Cloud PC. Defaults to
    /// DATA/exports. A host of its own writes them to its `stratus host --exports` folder: no API names the path.
    /// </summary>
    public string? RestorePointExportFolder { get; set; }

    /// <summary>How long each kind of Cloud PC operation may run before it fails (Stratus:Provisioning:OperationDeadlines).</summary>
    public OperationDeadlines OperationDeadlines { get; set; } = new();
}

/// <summary>
/// The deadline of each kind of operation. One that has not completed by then fails with a retryable
/// statusDetail (operationTimedOut) and its Cloud PC accepts actions again. Rename completes at once and needs none.
/// </summary>
public sealed class OperationDeadlines
{
    public TimeSpan Reboot { get; set; } = TimeSpan.FromMinutes(10);

    public TimeSpan PowerOn { get; set; } = TimeSpan.FromMinutes(10);

    public TimeSpan PowerOff { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The size change, the VM's stop and its start with the new size.</summary>
    public TimeSpan Resize { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>Longer than a provisioning's own steps with their two retries (placement and boot, three times).</summary>
    public TimeSpan Reprovision { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Deleting the VM; the deletion itself goes on being asked after this.</summary>
    public TimeSpan EndGracePeriod { get; set; } = TimeSpan.FromMinutes(30);

    public TimeSpan Restore { get; set; } = TimeSpan.FromMinutes(30);

    public TimeSpan CreateSnapshot { get; set; } = TimeSpan.FromMinutes(30);

    public TimeSpan ExportSnapshot { get; set; } = TimeSpan.FromHours(2);

    /// <summary>Making the backup region's VM from the latest copy and booting it.</summary>
    public TimeSpan DisasterRecoveryFailover { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Stopping the disaster-recovery VM, copying its disk to the primary region, making the new primary from it.</summary>
    public TimeSpan DisasterRecoveryFailback { get; set; } = TimeSpan.FromHours(2);

    /// <summary>The deadline of an action; null for one that completes when it is asked (rename).</summary>
    public TimeSpan? For(string action) => action switch
    {
        "reboot" => Reboot,
        "powerOn" => PowerOn,
        "powerOff" => PowerOff,
        "resize" => Resize,
        "reprovision" or "retry" => Reprovision,
        "endGracePeriod" => EndGracePeriod,
        "restore" => Restore,
        "createSnapshot" => CreateSnapshot,
        "exportSnapshot" => ExportSnapshot,
        CloudPcs.Lifecycle.FailoverAction => DisasterRecoveryFailover,
        CloudPcs.Lifecycle.FailbackAction => DisasterRecoveryFailback,
        _ => null,
    };

    /// <summary>The deadlines that are not positive, by name, for the check at start.</summary>
    public IEnumerable<string> Invalid() =>
        new (string Name, TimeSpan Value)[]
        {
            (nameof(Reboot), Reboot), (nameof(PowerOn), PowerOn), (nameof(PowerOff), PowerOff), (nameof(Resize), Resize),
            (nameof(Reprovision), Reprovision), (nameof(EndGracePeriod), EndGracePeriod), (nameof(Restore), Restore),
            (nameof(CreateSnapshot), CreateSnapshot), (nameof(ExportSnapshot), ExportSnapshot),
            (nameof(DisasterRecoveryFailover), DisasterRecoveryFailover), (nameof(DisasterRecoveryFailback), DisasterRecoveryFailback),
        }.Where(d => d.Value <= TimeSpan.Zero).Select(d => d.Name);
}
