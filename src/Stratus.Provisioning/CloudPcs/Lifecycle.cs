using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
        pc.HostName = null;
        pc.LastVmReportAt = null;
        pc.NextRestorePointAt = null;
        ForgetRestorePoints(pc);
        pc.PowerState = CloudPcPowerState.Unknown;
        pc.GracePeriodEnd = null;
        SetStatus(pc, status);
        ClearDetail(pc);
        Place(pc);
    }

    public void Place(CloudPc pc)
    {
        db.Publish(new PlaceVm(pc.VmId, pc.TenantId, pc.RegionName, pc.ImageId, pc.VCpuCount, pc.MemoryMiB, pc.DiskGiB));
        StartStep(pc, CloudPcStep.Placing, Options.PlaceTimeout);
    }

    public void OnPlaced(CloudPc pc, string hostName)
    {
        if (pc.Step != CloudPcStep.Placing)
        {
            return;
        }

        pc.HostName = hostName;
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
            pc.HostName = null;
            pc.LastVmReportAt = null;
            db.Publish(new PlaceVm(pc.VmId, pc.TenantId, pc.RegionName, pc.ImageId, pc.VCpuCount, pc.MemoryMiB, pc.DiskGiB), clock.GetUtcNow() + delay);
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
        LogFailed(logger ?? (ILogger)Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, pc.ManagedDeviceName, pc.Id, code, pc.StatusDetailMessage);
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

    private static void ClearDetail(CloudPc pc)
    {
        pc.StatusDetailCode = null;
        pc.StatusDetailMessage = null;
        pc.StatusDetailRetryable = null;
    }
}
