using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Stratus.Compute.Hosts;
using Stratus.Compute.Persistence;
using Stratus.Compute.Vms;
using Stratus.Testing;

namespace Stratus.Compute.Tests;

/// <summary>
/// Issue 18, "never silently stale", on a real SQLite store with a fake clock: compute's staleness check and host-loss
/// recovery publish compute.diskCopyStale / diskCopyHealthy / vmRecoveryFailed once per change, each with the reason
/// people need (host unreachable, copy store full, copy failed; no copy, no store, no room), and the VM's copy rows
/// (what GET /api/v1/vms/{id} shows) say the same.
/// </summary>
public sealed class DiskCopyStalenessTests : IAsyncLifetime
{
    private const string Store = "file:///copies/test-1";
    private readonly ComputeOptions options = new()
    {
        Regions = [new RegionOptions { Name = "test-1", DisplayName = "Test 1", Zones = ["test-1a"], CopyStore = Store }, new RegionOptions { Name = "bare-1", DisplayName = "No store", Zones = ["bare-1a"] }],
        DiskCopies = new DiskCopyOptions { DefaultInterval = TimeSpan.FromMinutes(5) },
    };

    private ComputeStore store = null!;

    public async Task InitializeAsync() =>
        store = await ComputeStore.CreateAsync((services, created) => services.AddScoped(s => new Placement(s.GetRequiredService<ComputeDbContext>(), created.Clock)));

    public async Task DisposeAsync() => await store.DisposeAsync();

    [Fact]
    public async Task A_copy_older_than_twice_its_interval_is_stale_once_with_why_and_healthy_again_once_a_copy_lands()
    {
        var host = await AddHostAsync("test-1", HostState.Ready);
        var neverCopied = await AddVmAsync(host, "test-1");
        var storeFull = await AddVmAsync(host, "test-1");
        var copyFailed = await AddVmAsync(host, "test-1");
        var staleness = new DiskCopyStaleness(store.Scopes, Options.Create(options), store.Clock, NullLogger<DiskCopyStaleness>.Instance);

        // Young VMs without a copy are not stale yet.
        await staleness.CheckAsync(CancellationToken.None);
        Assert.All(await RowsAsync(), r => Assert.Equal(DiskCopyStatus.None, r.Status));
        Assert.Empty(await PublishedAsync("diskCopyStale"));

        // Each VM's agent reports: a copy, then failures for two of them.
        var firstCopy = store.Clock.GetUtcNow();
        await ReportAsync(storeFull, firstCopy, null);
        await ReportAsync(copyFailed, firstCopy, null);
        await staleness.CheckAsync(CancellationToken.None);
        Assert.Equal(DiskCopyStatus.Healthy, (await RowAsync(storeFull)).Status);

        store.Clock.Advance(TimeSpan.FromMinutes(11));
        await ReportAsync(storeFull, firstCopy, "Writing vms/x/chain.json: No space left on device");
        await ReportAsync(copyFailed, firstCopy, "qemu: Connection refused");
        await staleness.CheckAsync(CancellationToken.None);
        await staleness.CheckAsync(CancellationToken.None);

        Assert.Contains("there is no copy yet: its host has not copied it", (await RowAsync(neverCopied)).StatusReason, StringComparison.Ordinal);
        Assert.Contains("the copy store is full: Writing vms/x/chain.json: No space left on device", (await RowAsync(storeFull)).StatusReason, StringComparison.Ordinal);
        Assert.Contains("the last copy failed: qemu: Connection refused", (await RowAsync(copyFailed)).StatusReason, StringComparison.Ordinal);
        Assert.All(await RowsAsync(), r => Assert.Equal(DiskCopyStatus.Stale, r.Status));

        // One event per VM, though the check ran twice, each with the VM, the region and the reason.
        var stale = await PublishedAsync("diskCopyStale");
        Assert.Equal(3, stale.Count);
        Assert.Single(stale, body => body.Contains(storeFull.ToString(), StringComparison.Ordinal) && body.Contains("copy store is full", StringComparison.Ordinal) && body.Contains("test-1", StringComparison.Ordinal));
        Assert.Single(stale, body => body.Contains(copyFailed.ToString(), StringComparison.Ordinal) && body.Contains("the last copy failed", StringComparison.Ordinal));

        // The host goes down: its VMs' reason says so once a new judgement is due (their reason changes, no new event).
        await SetHostStateAsync(host, HostState.Down);
        await staleness.CheckAsync(CancellationToken.None);
        Assert.Contains("its host is unreachable", (await RowAsync(neverCopied)).StatusReason, StringComparison.Ordinal);
        Assert.Equal(3, (await PublishedAsync("diskCopyStale")).Count);

        // Back and copying: healthy again, with one diskCopyHealthy.
        await SetHostStateAsync(host, HostState.Ready);
        await ReportAsync(storeFull, store.Clock.GetUtcNow(), null);
        await staleness.CheckAsync(CancellationToken.None);
        await staleness.CheckAsync(CancellationToken.None);
        var row = await RowAsync(storeFull);
        Assert.Equal(DiskCopyStatus.Healthy, row.Status);
        Assert.Null(row.StatusReason);
        Assert.Single(await PublishedAsync("diskCopyHealthy"), body => body.Contains(storeFull.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_copy_on_time_whose_last_attempt_failed_is_failed_with_the_error_and_not_stale()
    {
        var host = await AddHostAsync("test-1", HostState.Ready);
        var vm = await AddVmAsync(host, "test-1");
        var staleness = new DiskCopyStaleness(store.Scopes, Options.Create(options), store.Clock, NullLogger<DiskCopyStaleness>.Instance);
        var copied = store.Clock.GetUtcNow();
        store.Clock.Advance(TimeSpan.FromMinutes(1));
        await ReportAsync(vm, copied, "S3: Access Denied");
        await staleness.CheckAsync(CancellationToken.None);
        var row = await RowAsync(vm);
        Assert.Equal(DiskCopyStatus.Failed, row.Status);
        Assert.Equal("The last copy failed: S3: Access Denied", row.StatusReason);
        Assert.Empty(await PublishedAsync("diskCopyStale"));
    }

    [Fact]
    public async Task A_lost_hosts_vm_that_cannot_be_made_again_gets_vmRecoveryFailed_once_per_reason_then_recovers_when_a_host_has_room()
    {
        var lost = await AddHostAsync("test-1", HostState.Down);
        var bareLost = await AddHostAsync("bare-1", HostState.Down);
        var noCopy = await AddVmAsync(lost, "test-1");
        var withCopy = await AddVmAsync(lost, "test-1");
        var noStore = await AddVmAsync(bareLost, "bare-1");
        await ReportAsync(withCopy, store.Clock.GetUtcNow(), null);
        var recovery = new HostLossRecovery(store.Scopes, Options.Create(options), store.Clock, NullLogger<HostLossRecovery>.Instance);
        store.Clock.Advance(options.HeartbeatTimeout + options.HostLossGrace + TimeSpan.FromMinutes(1));

        await recovery.RecoverAsync(CancellationToken.None);
        await recovery.RecoverAsync(CancellationToken.None);

        var failed = await PublishedAsync("vmRecoveryFailed");
        Assert.Equal(3, failed.Count);
        Assert.Single(failed, b => b.Contains(noCopy.ToString(), StringComparison.Ordinal) && b.Contains("has no copy in region test-1", StringComparison.Ordinal));
        Assert.Single(failed, b => b.Contains(noStore.ToString(), StringComparison.Ordinal) && b.Contains("region bare-1 has no copy store", StringComparison.Ordinal));
        Assert.Single(failed, b => b.Contains(withCopy.ToString(), StringComparison.Ordinal) && b.Contains(lost.ToString(), StringComparison.Ordinal));
        Assert.Empty(await PublishedAsync("vmRecovering"));

        // A host with room joins: the VM with a copy is made again there; the others fail as before, without a new event.
        var survivor = await AddHostAsync("test-1", HostState.Ready);
        await recovery.RecoverAsync(CancellationToken.None);
        await using var db = store.NewContext();
        var moved = await db.Vms.SingleAsync(v => v.Id == withCopy);
        Assert.Equal(survivor, moved.HostId);
        Assert.Null(moved.RecoveryFailure);
        Assert.Single(await PublishedAsync("vmRecovering"), b => b.Contains(withCopy.ToString(), StringComparison.Ordinal));
        Assert.Equal(3, (await PublishedAsync("vmRecoveryFailed")).Count);
        Assert.Equal(lost, (await db.Vms.SingleAsync(v => v.Id == noCopy)).HostId);
    }

    private async Task<Guid> AddHostAsync(string region, HostState state)
    {
        await using var db = store.NewContext();
        var id = Guid.NewGuid();
        db.Hosts.Add(new Host
        {
            Id = id, Name = "host-" + id.ToString("N")[..6], Region = region, Zone = region + "a", State = state, LastHeartbeatAt = store.Clock.GetUtcNow(),
            VCpuCapacity = 8, MemoryMiBCapacity = 8192, DiskGiBCapacity = 200, VCpuAllocated = 8, MemoryMiBAllocated = 8192, DiskGiBAllocated = 200,
            AgentTokenHash = "hash-" + id, Driver = "simulated", Accelerator = "none",
        });
        if (state == HostState.Ready)
        {
            // A ready host is a survivor with all its room free.
            db.Hosts.Local.Single(h => h.Id == id).VCpuAllocated = 0;
            db.Hosts.Local.Single(h => h.Id == id).MemoryMiBAllocated = 0;
            db.Hosts.Local.Single(h => h.Id == id).DiskGiBAllocated = 0;
        }

        await db.SaveChangesAsync();
        return id;
    }

    private async Task<Guid> AddVmAsync(Guid hostId, string region)
    {
        await using var db = store.NewContext();
        var id = Guid.NewGuid();
        db.Vms.Add(new Vm { Id = id, HostId = hostId, TenantId = Guid.NewGuid(), Region = region, ImageId = "tiny", VCpuCount = 1, MemoryMiB = 1024, DiskGiB = 8, CreatedAt = store.Clock.GetUtcNow() });
        await db.SaveChangesAsync();
        return id;
    }

    /// <summary>What an agent's report of the VM's copies leaves in its row (DiskCopyReports.ApplyAsync).</summary>
    private async Task ReportAsync(Guid vmId, DateTimeOffset latest, string? error)
    {
        await using var db = store.NewContext();
        var row = await db.VmDiskCopies.FirstOrDefaultAsync(c => c.VmId == vmId && c.StoreUri == Store)
            ?? db.VmDiskCopies.Add(new VmDiskCopy { VmId = vmId, StoreUri = Store, Region = "test-1" }).Entity;
        row.LatestCopyAt = latest;
        row.LastAttemptAt = error is null ? latest : store.Clock.GetUtcNow();
        row.LastError = error;
        await db.SaveChangesAsync();
    }

    private async Task SetHostStateAsync(Guid hostId, HostState state)
    {
        await using var db = store.NewContext();
        (await db.Hosts.SingleAsync(h => h.Id == hostId)).State = state;
        await db.SaveChangesAsync();
    }

    private async Task<VmDiskCopy> RowAsync(Guid vmId)
    {
        await using var db = store.NewContext();
        return await db.VmDiskCopies.AsNoTracking().SingleAsync(c => c.VmId == vmId);
    }

    private async Task<List<VmDiskCopy>> RowsAsync()
    {
        await using var db = store.NewContext();
        return await db.VmDiskCopies.AsNoTracking().ToListAsync();
    }

    private async Task<List<string>> PublishedAsync(string name)
    {
        await using var db = store.NewContext();
        return await db.OutboxMessages.Where(m => m.MessageType.Contains("compute." + name + ".")).Select(m => m.Body).ToListAsync();
    }
}
