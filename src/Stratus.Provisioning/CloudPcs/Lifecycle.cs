using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Provisioning.Directory;
using Stratus.Provisioning.Persistence;
using Stratus.Provisioning.Policies;

namespace Stratus.Provisioning.CloudPcs;

/// <summary>
/// The Cloud PC state machine. Every transition changes the record and queues the commands to compute (and
/// the deadline of the step it starts) in the same transaction: a crash either keeps all of it or none, and
/// compute's commands are idempotent by VM and operation id, so a redelivery has its effect once.
/// </summary>
/// <param name="logger">Optional for the tests that build a Lifecycle by hand; the service container always gives one.</param>
public sealed partial class Lifecycle(ProvisioningDbContext db, IOptions<ProvisioningOptions> options, TimeProvider clock, ILogger<Lifecycle>? logger = null)
{
    private readonly ILogger log = logger ?? (ILogger)Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    private const int MaxAttempts = 3;

    private ProvisioningOptions Options => options.Value;

    /// <summary>Starts (or restarts) provisioning on a fresh VM; the previous VM, if any, is deleted.</summary>
    public void StartProvisioning(CloudPc pc, Guid? previousVmId, CloudPcStatus status = CloudPcStatus.Provisioning)
    {
        if (previousVmId is { } old)
        {
            db.Publish(new ChangeVm(old, null, Delete: true));
        }

        pc.VmId = Guid.CreateVersion7(clock.GetUtcNow());
        ForgetVm(pc);
        pc.NextRestorePointAt = null;
        ForgetRestorePoints(pc);
        pc.PowerState = CloudPcPowerState.Unknown;
        pc.GracePeriodEnd = null;
        SetStatus(pc, status);
        ClearDetail(pc);
        Place(pc);
    }

    public void OnPlaced(CloudPc pc, VmPlaced placed)
    {
        ArgumentNullException.ThrowIfNull(placed);
        if (pc.Step != CloudPcStep.Placing)
        {
            return;
        }

        pc.HostId = placed.HostId;
        pc.HostName = placed.HostName;
        pc.IpAddress = placed.IpAddress ?? pc.IpAddress;
        StartStep(pc, CloudPcStep.Booting, Options.BootTimeout);
    }

    public void OnReady(CloudPc pc)
    {
        pc.PowerState = CloudPcPowerState.Running;
        if (pc.Step is CloudPcStep.Booting or CloudPcStep.Placing && pc.Status == CloudPcStatus.Provisioning)
        {
            EndStep(pc);
            pc.Attempt = 0;
            SetStatus(pc, CloudPcStatus.Provisioned);
            ClearDetail(pc);
            CompleteActiveOperation(pc, OperationStatus.Succeeded, null);
        }
        else if (pc.Status == CloudPcStatus.Recovering)
        {
            // Made again on another host after host loss (HostLossHandlers), and up there.
            ClearDetail(pc);
            SetStatus(pc, CloudPcStatus.Provisioned);
        }
    }

    /// <summary>A step failed (timed out, no capacity, boot error): retried twice with backoff, then failed.</summary>
    public void OnStepFailed(CloudPc pc, string code, string message)
    {
        pc.Attempt++;
        if (pc.Attempt < MaxAttempts)
        {
            pc.StatusDetailCode = code;
            pc.StatusDetailMessage = $"{message} Retrying (attempt {pc.Attempt + 1} of {MaxAttempts}).";
            pc.StatusDetailRetryable = true;
            var delay = Options.RetryBackoff * Math.Pow(2, pc.Attempt - 1);
            var old = pc.VmId;

            // A fresh VM for the next attempt: a half-booted one is not trusted. The old one is deleted first.
            db.Publish(new ChangeVm(old, null, Delete: true));
            pc.VmId = Guid.CreateVersion7(clock.GetUtcNow());
            ForgetVm(pc);
            // The same connection as the first attempt: network chose it moments ago.
            db.Publish(PlaceVmOf(pc), clock.GetUtcNow() + delay);
            StartStep(pc, CloudPcStep.Placing, delay + Options.PlaceTimeout);
            Touch(pc);
            return;
        }

        EndStep(pc);
        SetStatus(pc, CloudPcStatus.Failed);
        pc.StatusDetailCode = code;
        pc.StatusDetailMessage = $"{message} Gave up after {MaxAttempts} attempts; retry the Cloud PC once the cause is fixed.";
        pc.StatusDetailRetryable = true;
        CompleteActiveOperation(pc, OperationStatus.Failed, pc.StatusDetailMessage);
        LogFailed(log, pc.ManagedDeviceName, pc.Id, code, pc.StatusDetailMessage);
    }

    /// <summary>
    /// The current VM was deleted or lost while the Cloud PC still wanted it (an operator deleted it, its host lost
    /// it). Before it held anything of the user's, provisioning just goes on with a new VM. After, the disk is gone,
    /// and with it the restore points (snapshots inside that disk): the Cloud PC fails and says so.
    /// </summary>
    public void OnVmLost(CloudPc pc, string reported)
    {
        var where = pc.HostName is { } host ? $" on {host}" : "";
        if (pc.DisasterRecoveryState == DisasterRecoveryState.FailingOver)
        {
            // The failover under way replaces this VM from its disk's copy in the backup region.
            SetDetail(pc, "primaryVmLost", $"Compute reported the primary VM{where} {reported}; the failover under way makes the Cloud PC again from the copy of its disk.", retryable: false);
            Touch(pc);
            return;
        }

        if (pc.Status == CloudPcStatus.Provisioning && pc.Step is CloudPcStep.Placing or CloudPcStep.Booting)
        {
            OnStepFailed(pc, "vmLost", $"Compute reported the new VM{where} {reported} before it was ready.");
            return;
        }

        // Exports are the one copy of a disk outside it: named for the admin, who can rebuild from one.
        var export = db.RestorePoints.Where(r => r.CloudPcId == pc.Id && r.ExportedTo != null).AsEnumerable()
            .OrderByDescending(r => r.CreatedAt).Select(r => r.ExportedTo).FirstOrDefault();
        var recovery = export is null
            ? "Its restore points were snapshots inside that disk and went with it; no copy of the disk exists."
            : $"Its restore points were snapshots inside that disk and went with it; the latest exported copy of the disk is {export}.";
        EndStep(pc);
        SetDetail(pc, "diskLost", $"Compute reported the VM{where} {reported} while the Cloud PC was {ToGraph(pc.Status)}: its disk, and the user's data on it, is lost. {recovery} Reprovision the Cloud PC to give the user a new one.", retryable: false);
        ForgetRestorePoints(pc);
        pc.PowerState = CloudPcPowerState.Unknown;
        pc.TargetServicePlanId = null;
        SetStatus(pc, CloudPcStatus.Failed);
        CompleteActiveOperation(pc, OperationStatus.Failed, pc.StatusDetailMessage);
        LogFailed(log, pc.ManagedDeviceName, pc.Id, "diskLost", pc.StatusDetailMessage ?? "");
    }

    /// <summary>Schedules the operation's deadline, for the kinds that have one (all but rename).</summary>
    public void ScheduleDeadline(CloudPcOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (Options.OperationDeadlines.For(operation.Action) is { } deadline)
        {
            db.Publish(new OperationDeadline(operation.Id, operation.CloudPcId), operation.CreatedAt + deadline);
        }
    }

    /// <summary>
    /// The operation that holds the Cloud PC failed without an answer (its deadline passed, its host went down): the
    /// Cloud PC says why, retryable, and accepts actions again. A resize stays resizing to its plan with no operation,
    /// as one whose process stopped: the same resize sent again, or the reconciliation, finishes or undoes it.
    /// </summary>
    public void FailActiveOperation(CloudPc pc, string code, string message)
    {
        if (pc.ActiveOperationId is null)
        {
            return;
        }

        if (pc.DisasterRecoveryState is not (DisasterRecoveryState.None or DisasterRecoveryState.Active))
        {
            // The primary's host going down is why one fails over: that failover goes on.
            if (!(pc.DisasterRecoveryState == DisasterRecoveryState.FailingOver && code == HostDownHandler.HostUnreachable))
            {
                AbortDisasterRecovery(pc, code, message);
            }

            return;
        }

        SetDetail(pc, code, message, retryable: true);
        switch (pc.Status)
        {
            case CloudPcStatus.Resizing:
                EndStep(pc);
                break;
            case CloudPcStatus.Restoring:
                SetStatus(pc, CloudPcStatus.Provisioned);
                break;
            case CloudPcStatus.Provisioning:
                EndStep(pc);
                SetStatus(pc, CloudPcStatus.Failed);
                break;
        }

        CompleteActiveOperation(pc, OperationStatus.Failed, message);
        Touch(pc);
    }

    /// <summary>Fails an operation that does not hold its Cloud PC (a restore point taken or exported beside it).</summary>
    public void FailOperation(CloudPcOperation operation, string detail)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (operation.Status != OperationStatus.Running || IsDisasterRecoveryAction(operation.Action))
        {
            // A failover or failback always holds its Cloud PC: it ends through FailActiveOperation.
            return;
        }

        operation.Status = OperationStatus.Failed;
        operation.Detail = detail;
        operation.CompletedAt = clock.GetUtcNow();
        if (operation.Action == "createSnapshot" && operation.RestorePointId is { } pointId
            && db.RestorePoints.Find(pointId) is { Status: RestorePoints.RestorePointStatus.Creating } point)
        {
            // Retention deletes a failed point's snapshot, in case the host takes it after all.
            point.Status = RestorePoints.RestorePointStatus.Failed;
            point.FailureReason = detail;
        }
    }

    /// <summary>
    /// Resizes the VM in two steps, each started by the confirmation of the one before: the new size with a stop
    /// in one change (compute applies both or neither), then, once the VM reports stopped at that change's
    /// generation, a start, which boots it with the new size. Never on a timer: a size change that compute handles
    /// late (retried) only makes the resize wait for it.
    /// </summary>
    public void StartResize(CloudPc pc, PlanCopy plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        // A VM that is off starts with the new size at once. Either way the change asks for another power state than
        // the VM's, so that it is a new generation even when an earlier attempt of this resize had set the size.
        var start = pc.PowerState == CloudPcPowerState.PoweredOff;
        db.Publish(new ChangeVm(pc.VmId, start ? "running" : "stopped", Delete: false, plan.VCpuCount, plan.RamInGB * 1024, plan.StorageInGB));
        pc.Step = start ? CloudPcStep.ResizeStarting : CloudPcStep.ResizeStopping;
        pc.StepToken = Guid.Empty;
        pc.StepAfterGeneration = pc.LastVmGeneration;
        Touch(pc);
    }

    /// <summary>Moves a resize on a VM report of a generation it has not seen yet.</summary>
    public async Task OnResizeReportAsync(CloudPc pc, VmReported report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Generation <= pc.StepAfterGeneration)
        {
            return;
        }

        if (pc.Step == CloudPcStep.ResizeStopping && report.State == "stopped")
        {
            db.Publish(new ChangeVm(pc.VmId, "running", Delete: false));
            pc.Step = CloudPcStep.ResizeStarting;
            pc.StepAfterGeneration = report.Generation;
        }
        else if (pc.Step == CloudPcStep.ResizeStarting && report.State == "running" && report.Ready)
        {
            await CompleteResizeAsync(pc, succeeded: true, cancellationToken);
            CompleteActiveOperation(pc, OperationStatus.Succeeded, null);
        }
    }

    /// <summary>The resize is over: the Cloud PC takes the target plan when it succeeded, else keeps its own.</summary>
    public async Task CompleteResizeAsync(CloudPc pc, bool succeeded, CancellationToken cancellationToken)
    {
        if (succeeded && pc.TargetServicePlanId is { } target && await db.Plans.FindAsync([target], cancellationToken) is { } plan)
        {
            pc.ServicePlanId = plan.Id;
            pc.ServicePlanName = plan.DisplayName;
            pc.VCpuCount = plan.VCpuCount;
            pc.MemoryMiB = plan.RamInGB * 1024;
            pc.DiskGiB = plan.StorageInGB;
        }

        EndStep(pc);
        EndResize(pc);
    }

    // A warning: `stratus up` shows it on a quiet terminal, where a person waits for the Cloud PC.
    [LoggerMessage(EventId = 7401, Level = LogLevel.Warning, Message = "Cloud PC {Name} ({CloudPcId}) failed ({Code}): {Detail}")]
    private static partial void LogFailed(ILogger logger, string name, Guid cloudPcId, string code, string detail);

    public void EnterGracePeriod(CloudPc pc, ProvisioningPolicy? policy)
    {
        // Whole milliseconds: stores keep less precision than a clock gives, and the scheduled message is matched by this value.
        var exact = clock.GetUtcNow() + Options.GracePeriodHour * (policy?.GracePeriodInHours ?? 168);
        var end = exact.AddTicks(-(exact.Ticks % TimeSpan.TicksPerMillisecond));
        pc.GracePeriodEnd = end;
        SetStatus(pc, CloudPcStatus.InGracePeriod);
        db.Publish(new GracePeriodEnded(pc.Id, end), end);
    }

    public void LeaveGracePeriod(CloudPc pc)
    {
        pc.GracePeriodEnd = null;
        SetStatus(pc, CloudPcStatus.Provisioned);
    }

    /// <summary>Deletes the VM and its disks; the record goes when compute reports the VM deleted.</summary>
    public void Deprovision(CloudPc pc)
    {
        db.Publish(new ChangeVm(pc.VmId, null, Delete: true));
        SetStatus(pc, CloudPcStatus.Deprovisioning);
        StartStep(pc, CloudPcStep.Deleting, Options.DeleteTimeout);
    }

    public void OnDeleteTimedOut(CloudPc pc)
    {
        db.Publish(new ChangeVm(pc.VmId, null, Delete: true));
        StartStep(pc, CloudPcStep.Deleting, Options.DeleteTimeout);
    }

    /// <summary>A Cloud PC's restore points live in its VM's disk: when the disk goes, so do they.</summary>
    public void ForgetRestorePoints(CloudPc pc)
    {
        db.RestorePoints.RemoveRange(db.RestorePoints.Where(r => r.CloudPcId == pc.Id).ToList());
    }

    public void CompleteActiveOperation(CloudPc pc, OperationStatus status, string? detail)
    {
        if (pc.ActiveOperationId is not { } id)
        {
            return;
        }

        var operation = db.Operations.Local.FirstOrDefault(o => o.Id == id) ?? db.Operations.Find(id);
        if (operation is not null && operation.Status == OperationStatus.Running)
        {
            operation.Status = status;
            operation.Detail = detail;
            operation.CompletedAt = clock.GetUtcNow();
        }

        pc.ActiveOperationId = null;
    }

    public void SetStatus(CloudPc pc, CloudPcStatus status)
    {
        if (pc.Status != status)
        {
            pc.Status = status;
            db.Publish(new CloudPcStatusChanged(pc.TenantId, pc.Id, pc.UserId, ToGraph(status), pc.StatusDetailCode, clock.GetUtcNow()));
        }

        Touch(pc);
    }

    /// <summary>The Cloud PC leaves resizing on the plan it has now: the new one when the resize completed, else the old.</summary>
    public void EndResize(CloudPc pc)
    {
        pc.TargetServicePlanId = null;
        SetStatus(pc, CloudPcStatus.Provisioned);
    }

    public void Touch(CloudPc pc)
    {
        pc.LastModifiedAt = clock.GetUtcNow();
        pc.Version = Guid.NewGuid();
    }

    public static string ToGraph(CloudPcStatus status) => JsonNaming(status.ToString());

    public static string JsonNaming(string name) => char.ToLowerInvariant(name[0]) + name[1..];

    private void StartStep(CloudPc pc, CloudPcStep step, TimeSpan timeout)
    {
        pc.Step = step;
        pc.StepToken = Guid.NewGuid();
        db.Publish(new StepDeadline(pc.Id, pc.StepToken), clock.GetUtcNow() + timeout);
        Touch(pc);
    }

    private static void EndStep(CloudPc pc)
    {
        pc.Step = CloudPcStep.None;
        pc.StepToken = Guid.Empty;
    }

    public static void SetDetail(CloudPc pc, string code, string message, bool retryable)
    {
        ArgumentNullException.ThrowIfNull(pc);
        pc.StatusDetailCode = code;
        pc.StatusDetailMessage = message.Length > 4000 ? message[..4000] : message;
        pc.StatusDetailRetryable = retryable;
    }

    /// <summary>A new VM: nothing known of it yet.</summary>
    private static void ForgetVm(CloudPc pc)
    {
        pc.HostId = null;
        pc.HostName = null;
        pc.LastVmReportAt = null;
        pc.LastVmGeneration = 0;
        pc.StepAfterGeneration = 0;
    }

    public static void ClearDetail(CloudPc pc)
    {
        ArgumentNullException.ThrowIfNull(pc);
        pc.StatusDetailCode = null;
        pc.StatusDetailMessage = null;
        pc.StatusDetailRetryable = null;
    }
}
