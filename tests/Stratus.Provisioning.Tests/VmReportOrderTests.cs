using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;
using Stratus.Platform.Messaging;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Persistence;
using Stratus.Testing;

namespace Stratus.Provisioning.Tests;

/// <summary>
/// Compute's reports of a VM can be delivered out of order (relayed together, handled by whichever worker is
/// free). A restart reports "stopped" then "running"; handled the other way round, the Cloud PC must still say
/// running. These run provisioning's own handler on a real SQLite store.
/// </summary>
public sealed class VmReportOrderTests : IAsyncLifetime
{
    private readonly TempFolder folder = new();
    private readonly Guid cloudPcId = Guid.NewGuid();
    private readonly Guid vmId = Guid.NewGuid();

    private SqliteProvisioningDbContext NewContext(params IInterceptor[] interceptors) => new(
        new DbContextOptionsBuilder<SqliteProvisioningDbContext>().UseSqlite($"Data Source={Path.Combine(folder.Path, "provisioning.db")}").AddInterceptors(interceptors).Options,
        TimeProvider.System);

    public async Task InitializeAsync()
    {
        await using var db = NewContext();
        await db.Database.MigrateAsync();
        db.CloudPcs.Add(new CloudPc
        {
            Id = cloudPcId, TenantId = Guid.NewGuid(), UserId = Guid.NewGuid(), UserPrincipalName = "ada@contoso.test", DisplayName = "Ada",
            ManagedDeviceName = "CPC-ADA-12345", ProvisioningPolicyName = "Design", ServicePlanName = "Small", ImageId = "tiny",
            ImageDisplayName = "Tiny", RegionName = "local-1", Status = CloudPcStatus.Provisioned, PowerState = CloudPcPowerState.Running, VmId = vmId,
        });
        await db.SaveChangesAsync();
    }

    public Task DisposeAsync()
    {
        folder.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_report_older_than_the_last_applied_one_changes_nothing()
    {
        var stopped = new VmReported(vmId, Guid.NewGuid(), "stopped", false, 3, null, new DateTimeOffset(2026, 11, 26, 5, 0, 0, TimeSpan.Zero));
        var running = stopped with { State = "running", Ready = true, ReportedAt = stopped.ReportedAt.AddSeconds(4) };

        await HandleAsync(running);
        await HandleAsync(stopped);

        Assert.Equal(CloudPcPowerState.Running, await PowerStateAsync());
    }

    [Fact]
    public async Task Reports_in_order_are_all_applied()
    {
        var running = new VmReported(vmId, Guid.NewGuid(), "running", true, 3, null, new DateTimeOffset(2026, 11, 26, 5, 0, 0, TimeSpan.Zero));
        var stopped = running with { State = "stopped", Ready = false, ReportedAt = running.ReportedAt.AddSeconds(4) };

        await HandleAsync(running);
        Assert.Equal(CloudPcPowerState.Running, await PowerStateAsync());
        await HandleAsync(stopped);

        Assert.Equal(CloudPcPowerState.PoweredOff, await PowerStateAsync());
    }

    [Fact]
    public async Task Of_two_reports_handled_at_once_the_older_one_saved_second_fails_and_is_then_found_stale()
    {
        // As seen in the chaos run: a restart's "running" and "stopped" on two workers, both read the Cloud PC
        // before either saved; "running" saved first. The late "stopped" must not overwrite it.
        var stopped = new VmReported(vmId, Guid.NewGuid(), "stopped", false, 3, null, new DateTimeOffset(2026, 11, 26, 5, 0, 0, TimeSpan.Zero));
        var running = stopped with { State = "running", Ready = true, ReportedAt = stopped.ReportedAt.AddSeconds(0.2) };
        var runningFirst = new BeforeFirstSave(() => HandleAsync(running));

        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => HandleAsync(stopped, runningFirst));
        Assert.Equal(CloudPcPowerState.Running, await PowerStateAsync());

        // The queue hands the failed message over again: now it is stale.
        await HandleAsync(stopped);
        Assert.Equal(CloudPcPowerState.Running, await PowerStateAsync());
    }

    private async Task HandleAsync(VmReported report, BeforeFirstSave? interceptor = null)
    {
        await using var db = interceptor is null ? NewContext() : NewContext(interceptor);
        var handlers = new OrchestrationHandlers(db, new Lifecycle(db, Options.Create(new ProvisioningOptions()), TimeProvider.System), Options.Create(new ProvisioningOptions()), TimeProvider.System);
        await handlers.HandleAsync(report, new MessageContext(Guid.NewGuid(), "provisioning", 1), CancellationToken.None);
    }

    private async Task<CloudPcPowerState> PowerStateAsync()
    {
        await using var db = NewContext();
        return (await db.CloudPcs.SingleAsync(p => p.Id == cloudPcId)).PowerState;
    }
}
