using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Stratus.Platform.Audit;
using Stratus.Platform.Messaging;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Directory;
using Stratus.Provisioning.Persistence;
using Stratus.Provisioning.RestorePoints;
using Stratus.Testing;

namespace Stratus.Provisioning.Tests;

/// <summary>
/// A user's restore or an admin's action reads the Cloud PC, checks it and saves; the restore point scheduler and
/// the host's reports change the same row at any moment. Losing that race answered 409 (restore) or 500 (actions),
/// seen in CI as a failed self-service restore. These run the real code on a real SQLite store, with the other
/// change made between the read and the save.
/// </summary>
public sealed class ConcurrentChangeTests : IAsyncLifetime
{
    private static readonly AuditActor Ada = new(Guid.NewGuid(), "ada@contoso.test", "127.0.0.1");
    private readonly TempFolder folder = new();
    private readonly Guid tenantId = Guid.NewGuid();
    private readonly Guid cloudPcId = Guid.NewGuid();
    private readonly Guid vmId = Guid.NewGuid();
    private readonly Guid pointId = Guid.NewGuid();
    private readonly ProvisioningOptions options = new() { RestorePointHour = TimeSpan.FromSeconds(1) };

    private SqliteProvisioningDbContext NewContext(params IInterceptor[] interceptors) => new(
        new DbContextOptionsBuilder<SqliteProvisioningDbContext>().UseSqlite($"Data Source={Path.Combine(folder.Path, "provisioning.db")}").AddInterceptors(interceptors).Options,
        TimeProvider.System);

    public async Task InitializeAsync()
    {
        await using var db = NewContext();
        await db.Database.MigrateAsync();
        var now = TimeProvider.System.GetUtcNow();
        db.CloudPcs.Add(new CloudPc
        {
            Id = cloudPcId, TenantId = tenantId, UserId = Ada.Id!.Value, UserPrincipalName = Ada.UserPrincipalName, DisplayName = "Ada",
            ManagedDeviceName = "CPC-ADA-12345", ProvisioningPolicyName = "Design", ServicePlanName = "Small", ImageId = "tiny",
            ImageDisplayName = "Tiny", RegionName = "local-1", Status = CloudPcStatus.Provisioned, PowerState = CloudPcPowerState.Running, VmId = vmId,
            NextRestorePointAt = now.AddSeconds(-1), Version = Guid.NewGuid(),
        });
        db.RestorePoints.Add(new RestorePoint
        {
            Id = pointId, TenantId = tenantId, CloudPcId = cloudPcId, VmId = vmId, Type = RestorePointType.Manual, Retention = RestorePointRetention.Manual,
            Status = RestorePointStatus.Ready, CreatedAt = now.AddMinutes(-5), ExpiresAt = now.AddDays(28), Version = Guid.NewGuid(),
        });
        await db.SaveChangesAsync();
    }

    public Task DisposeAsync()
    {
        folder.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_restore_that_races_with_the_scheduler_taking_a_point_is_started_once()
    {
        // The scheduler's pass lands between the restore's read and its save: it takes a point and bumps the Cloud PC's version.
        var schedulerFirst = new BeforeFirstSave(async () =>
        {
            await using var scheduler = NewContext();
            Assert.Equal(1, await RestorePointScheduler.RunOnceAsync(scheduler, options, TimeProvider.System, NullLogger.Instance, CancellationToken.None));
        });
        await using var api = NewContext(schedulerFirst);

        var outcome = await RestorePointsApi.StartRestoreAsync(cloudPcId, pointId, tenantId, Ada.Id, Ada, null, api, Lifecycle(api), TimeProvider.System, CancellationToken.None);

        Assert.True(outcome.Operation is not null, $"{outcome.Status} {outcome.Code}: {outcome.Reason}");
        Assert.Equal(2, schedulerFirst.Saves);
        await using var check = NewContext();
        var pc = await check.CloudPcs.SingleAsync(p => p.Id == cloudPcId);
        Assert.Equal((CloudPcStatus.Restoring, outcome.Operation.Id), (pc.Status, pc.ActiveOperationId));
        Assert.Equal(outcome.Operation.Id, Assert.Single(await check.Operations.Where(o => o.Action == "restore").ToListAsync()).Id);
        Assert.Equal(2, await check.RestorePoints.CountAsync());
        Assert.Equal(2, await RunVmOperationsAsync(check));
    }

    [Fact]
    public async Task A_restore_whose_cloud_pc_became_busy_meanwhile_is_refused_by_the_checks_run_again_and_writes_nothing()
    {
        // An admin's reboot starts between the user's read and save: the restore is checked again and finds it busy.
        var rebootFirst = new BeforeFirstSave(async () =>
        {
            await using var admin = NewContext();
            Assert.IsType<CloudPcActions.Started>(await StartRebootAsync(admin));
        });
        await using var api = NewContext(rebootFirst);

        var outcome = await RestorePointsApi.StartRestoreAsync(cloudPcId, pointId, tenantId, Ada.Id, Ada, null, api, Lifecycle(api), TimeProvider.System, CancellationToken.None);

        Assert.Equal((409, "action-in-progress"), (outcome.Status, outcome.Code));
        Assert.Null(outcome.Operation);
        await using var check = NewContext();
        Assert.Equal(CloudPcStatus.Provisioned, (await check.CloudPcs.SingleAsync(p => p.Id == cloudPcId)).Status);
        Assert.Equal(["reboot"], await check.Operations.Select(o => o.Action).ToListAsync());
        Assert.Equal(1, await RunVmOperationsAsync(check));
    }

    [Fact]
    public async Task An_action_that_races_with_the_scheduler_is_started_once_not_answered_500()
    {
        var schedulerFirst = new BeforeFirstSave(async () =>
        {
            await using var scheduler = NewContext();
            Assert.Equal(1, await RestorePointScheduler.RunOnceAsync(scheduler, options, TimeProvider.System, NullLogger.Instance, CancellationToken.None));
        });
        await using var api = NewContext(schedulerFirst);

        var started = Assert.IsType<CloudPcActions.Started>(await StartRebootAsync(api));

        Assert.Equal(2, schedulerFirst.Saves);
        await using var check = NewContext();
        Assert.Equal(started.Operation.Id, (await check.CloudPcs.SingleAsync(p => p.Id == cloudPcId)).ActiveOperationId);
        Assert.Equal(started.Operation.Id, Assert.Single(await check.Operations.ToListAsync()).Id);
        // The scheduler's snapshot and one restart.
        Assert.Equal(2, await RunVmOperationsAsync(check));
    }

    private Lifecycle Lifecycle(ProvisioningDbContext db) => new(db, Options.Create(options), TimeProvider.System);

    // A reboot calls no other service: the clients are never used.
    private Task<CloudPcActions.Outcome> StartRebootAsync(ProvisioningDbContext db) => CloudPcActions.StartAsync(
        "reboot", cloudPcId, tenantId, new ActionRequest(null, null), null, Ada, db, Lifecycle(db), new ServiceClients(null!, db), TimeProvider.System, CancellationToken.None);

    private static Task<int> RunVmOperationsAsync(ProvisioningDbContext db) =>
        db.OutboxMessages.CountAsync(m => m.MessageType == MessageNames.Of(typeof(RunVmOperation)));
}
