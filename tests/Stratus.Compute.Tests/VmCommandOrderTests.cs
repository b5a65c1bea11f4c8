using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Stratus.Compute.Hosts;
using Stratus.Compute.Persistence;
using Stratus.Compute.Vms;
using Stratus.Platform.Messaging;
using Stratus.Testing;

namespace Stratus.Compute.Tests;

/// <summary>
/// Commands to compute can arrive out of order or twice. A VM whose deletion was asked must never be placed
/// afterwards: that would be a VM no one owns. These run compute's own handlers on a real SQLite store.
/// </summary>
public sealed class VmCommandOrderTests : IAsyncLifetime
{
    private readonly TempFolder folder = new();

    private SqliteComputeDbContext NewContext() => new(
        new DbContextOptionsBuilder<SqliteComputeDbContext>().UseSqlite($"Data Source={Path.Combine(folder.Path, "compute.db")}").Options,
        TimeProvider.System);

    public async Task InitializeAsync()
    {
        await using var db = NewContext();
        await db.Database.MigrateAsync();
        db.Hosts.Add(new Host
        {
            Id = Guid.NewGuid(), Name = "host-a", Region = "test-1", Zone = "test-1a", State = HostState.Ready,
            VCpuCapacity = 8, MemoryMiBCapacity = 8192, DiskGiBCapacity = 200, AgentTokenHash = "hash", Driver = "simulated", Accelerator = "none",
        });
        await db.SaveChangesAsync();
    }

    public Task DisposeAsync()
    {
        folder.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_delete_that_arrives_before_the_placement_leaves_no_vm()
    {
        var vmId = Guid.NewGuid();
        await using (var db = NewContext())
        {
            await new ChangeVmHandler(db, TimeProvider.System).HandleAsync(new ChangeVm(vmId, null, Delete: true), Context(), CancellationToken.None);
        }

        await using (var db = NewContext())
        {
            await new PlaceVmHandler(new Placement(db, TimeProvider.System), db, Microsoft.Extensions.Options.Options.Create(new ComputeOptions()), TimeProvider.System).HandleAsync(
                new PlaceVm(vmId, Guid.NewGuid(), "test-1", "tiny", 1, 1024, 8), Context(), CancellationToken.None);
        }

        await using var check = NewContext();
        Assert.False(await check.Vms.AnyAsync(v => v.Id == vmId));
        var host = await check.Hosts.SingleAsync();
        Assert.Equal(0, host.VCpuAllocated);
        var published = await check.OutboxMessages.Select(m => new { m.MessageType, m.Body }).ToListAsync();
        Assert.Contains(published, m => m.MessageType.Contains("vmReported", StringComparison.Ordinal) && m.Body.Contains("deleted", StringComparison.Ordinal));
        var failed = Assert.Single(published, m => m.MessageType.Contains("vmPlacementFailed", StringComparison.Ordinal));
        Assert.Contains("deleted before it was placed", failed.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(published, m => m.MessageType.Contains("vmPlaced.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_placement_delivered_twice_places_once_and_a_later_delete_marks_it()
    {
        var vmId = Guid.NewGuid();
        for (var i = 0; i < 2; i++)
        {
            await using var db = NewContext();
            await new PlaceVmHandler(new Placement(db, TimeProvider.System), db, Microsoft.Extensions.Options.Options.Create(new ComputeOptions()), TimeProvider.System).HandleAsync(
                new PlaceVm(vmId, Guid.NewGuid(), "test-1", "tiny", 1, 1024, 8), Context(), CancellationToken.None);
        }

        await using (var db = NewContext())
        {
            Assert.Single(await db.Vms.Where(v => v.Id == vmId).ToListAsync());
            Assert.Equal(1, (await db.Hosts.SingleAsync()).VCpuAllocated);
            await new ChangeVmHandler(db, TimeProvider.System).HandleAsync(new ChangeVm(vmId, null, Delete: true), Context(), CancellationToken.None);
        }

        await using var check = NewContext();
        Assert.True((await check.Vms.SingleAsync(v => v.Id == vmId)).DeleteRequested);
    }

    [Fact]
    public async Task A_service_asking_for_compute_s_own_Recover_kind_gets_a_failed_operation_naming_the_kinds_it_can_ask_for()
    {
        var vmId = Guid.NewGuid();
        var operationId = Guid.NewGuid();
        await using (var db = NewContext())
        {
            await new PlaceVmHandler(new Placement(db, TimeProvider.System), db, Microsoft.Extensions.Options.Options.Create(new ComputeOptions()), TimeProvider.System).HandleAsync(
                new PlaceVm(vmId, Guid.NewGuid(), "test-1", "tiny", 1, 1024, 8), Context(), CancellationToken.None);
            await new RunVmOperationHandler(db, TimeProvider.System).HandleAsync(new RunVmOperation(operationId, vmId, "Recover", null), Context(), CancellationToken.None);
        }

        await using var check = NewContext();
        Assert.False(await check.VmOperations.AnyAsync(o => o.Id == operationId));
        var completed = Assert.Single(await check.OutboxMessages.Where(m => m.MessageType.Contains("vmOperationCompleted")).Select(m => m.Body).ToListAsync());
        Assert.Contains("must be one of Restart, CreateSnapshot, RevertSnapshot, DeleteSnapshot, ExportSnapshot, CopyDisk, not ", completed, StringComparison.Ordinal);
    }

    private static MessageContext Context() => new(Guid.NewGuid(), "compute", 1);
}
