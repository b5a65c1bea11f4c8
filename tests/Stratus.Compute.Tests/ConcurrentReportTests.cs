using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Stratus.Compute.Agents;
using Stratus.Compute.Hosts;
using Stratus.Compute.Persistence;
using Stratus.Compute.Vms;
using Stratus.Platform.Messaging;
using Stratus.Testing;

namespace Stratus.Compute.Tests;

/// <summary>
/// An agent's heartbeat and its main loop report at once, maybe to two compute instances. The fault-injection
/// harness saw a Cloud PC stay "poweredOff" for good: a reboot's "stopped" was published, then a report that had
/// read the VM before it saved "running" over it without publishing anything. Compute's report handling on a
/// real SQLite store, with the two reports interleaved on purpose.
/// </summary>
public sealed class ConcurrentReportTests : IAsyncLifetime
{
    private readonly TempFolder folder = new();
    private readonly Guid hostId = Guid.NewGuid();
    private readonly Guid vmId = Guid.NewGuid();

    private SqliteComputeDbContext NewContext(params IInterceptor[] interceptors) => new(
        new DbContextOptionsBuilder<SqliteComputeDbContext>().UseSqlite($"Data Source={Path.Combine(folder.Path, "compute.db")}").AddInterceptors(interceptors).Options,
        TimeProvider.System);

    public async Task InitializeAsync()
    {
        await using var db = NewContext();
        await db.Database.MigrateAsync();
        var now = TimeProvider.System.GetUtcNow();
        db.Hosts.Add(new Host
        {
            Id = hostId, Name = "host-a", Region = "test-1", Zone = "test-1a", State = HostState.Ready, LastHeartbeatAt = now,
            VCpuCapacity = 8, MemoryMiBCapacity = 8192, DiskGiBCapacity = 200, AgentTokenHash = "hash", Driver = "simulated", Accelerator = "none",
        });
        db.Vms.Add(new Vm
        {
            Id = vmId, HostId = hostId, Region = "test-1", ImageId = "tiny", VCpuCount = 1, MemoryMiB = 1024, DiskGiB = 8,
            DesiredPower = PowerState.Running, Generation = 1, CreatedAt = now, ReportedState = "running", Ready = true, ReportedGeneration = 1,
        });
        await db.SaveChangesAsync();
    }

    public Task DisposeAsync()
    {
        folder.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_report_that_read_the_host_before_another_saved_is_refused_and_the_next_one_publishes_the_change()
    {
        await using var late = NewContext();
        // The late report reads the host and its VM ("running") first...
        await late.Hosts.SingleAsync(h => h.Id == hostId);
        await late.Vms.SingleAsync(v => v.Id == vmId);

        // ...meanwhile the reboot's "stopped" is reported and saved...
        await using (var early = NewContext())
        {
            Assert.True(await AgentApi.ApplyReportAsync(early, hostId, Report("stopped"), TimeProvider.System.GetUtcNow(), CancellationToken.None));
        }

        // ...then the late one, with "running": saving it over "stopped" would publish nothing, as it read "running".
        Assert.False(await AgentApi.ApplyReportAsync(late, hostId, Report("running"), TimeProvider.System.GetUtcNow(), CancellationToken.None));

        // The agent reports again within seconds: now the change is seen and published.
        await using (var next = NewContext())
        {
            Assert.True(await AgentApi.ApplyReportAsync(next, hostId, Report("running"), TimeProvider.System.GetUtcNow(), CancellationToken.None));
        }

        await using var check = NewContext();
        Assert.Equal("running", (await check.Vms.SingleAsync(v => v.Id == vmId)).ReportedState);
        var published = (await check.OutboxMessages.AsNoTracking().OrderBy(m => m.CreatedAt).ToListAsync())
            .Where(m => m.MessageType == MessageNames.Of<VmReported>())
            .Select(m => JsonDocument.Parse(m.Body).RootElement.GetProperty("state").GetString()).ToList();
        Assert.Equal(["stopped", "running"], published);
    }

    [Fact]
    public async Task An_api_change_to_a_vm_that_races_with_a_report_is_read_again_and_saved_not_answered_500()
    {
        long versionBefore;
        await using (var before = NewContext())
        {
            versionBefore = (await before.Hosts.SingleAsync(h => h.Id == hostId)).DesiredVersion;
        }

        // The agent's report lands between the API's read of the host and its save, as a heartbeat does.
        var reportFirst = new BeforeFirstSave(async () =>
        {
            await using var agent = NewContext();
            Assert.True(await AgentApi.ApplyReportAsync(agent, hostId, Report("running"), TimeProvider.System.GetUtcNow().AddSeconds(1), CancellationToken.None));
        });
        await using var api = NewContext(reportFirst);

        var result = await VmsApi.DeleteAsync(vmId, api, CancellationToken.None);

        Assert.IsType<Ok<VmView>>(result.Result);
        Assert.Equal(2, reportFirst.Saves);
        await using var check = NewContext();
        Assert.True((await check.Vms.SingleAsync(v => v.Id == vmId)).DeleteRequested);
        Assert.Equal(versionBefore + 1, (await check.Hosts.SingleAsync(h => h.Id == hostId)).DesiredVersion);
    }

    private AgentReport Report(string state) => new("none", "test", [new ReportedVm(vmId, state, state == "running", 1, null)], []);
}
