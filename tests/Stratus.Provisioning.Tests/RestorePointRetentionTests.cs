using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Stratus.Platform.Messaging;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Persistence;
using Stratus.Provisioning.RestorePoints;
using Stratus.Testing;

namespace Stratus.Provisioning.Tests;

/// <summary>
/// 60 days of restore points on a fake clock: provisioning's scheduler and completion handler on a real SQLite
/// store, with a stand-in host that keeps the snapshots each command asks for (the real host runs the same
/// commands against qcow2 files in the QEMU tests). Checks retention, the schedule's slots, and that nothing is
/// taken twice or left on the disk.
/// </summary>
public sealed class RestorePointRetentionTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);

    private readonly TempFolder folder = new();
    private readonly FakeTimeProvider clock = new(Start);
    private readonly ProvisioningOptions options = new();
    private readonly Guid cloudPcId = Guid.NewGuid();
    private readonly Guid vmId = Guid.NewGuid();

    /// <summary>The snapshots on the stand-in host's disk, by name.</summary>
    private readonly HashSet<string> disk = [];

    private readonly List<string> created = [];

    public RestorePointRetentionTests()
    {
        using var db = NewContext();
        db.Database.Migrate();
        db.CloudPcs.Add(new CloudPc
        {
            Id = cloudPcId, TenantId = Guid.NewGuid(), UserId = Guid.NewGuid(), UserPrincipalName = "ada@contoso.test", DisplayName = "Ada",
            ManagedDeviceName = "CPC-ADA-12345", ProvisioningPolicyName = "Design", ServicePlanName = "Small", ImageId = "tiny",
            ImageDisplayName = "Tiny", RegionName = "local-1", Status = CloudPcStatus.Provisioned, PowerState = CloudPcPowerState.Running, VmId = vmId,
        });
        db.SaveChanges();
    }

    public void Dispose() => folder.Dispose();

    [Fact]
    public async Task Sixty_days_keep_ten_short_term_four_weekly_long_term_and_one_manual_point()
    {
        for (var hour = 1; hour <= 60 * 24; hour++)
        {
            clock.Advance(TimeSpan.FromHours(1));
            if (hour == 3 * 24 || hour == 40 * 24 || hour == 50 * 24)
            {
                await TakeManualAsync();
            }

            await PassAsync();
        }

        var now = clock.GetUtcNow();
        var points = await PointsAsync();

        // Every 12 hours (the default frequency), once per slot (about 120 in 60 days), none taken twice.
        var slots = 0;
        for (var slot = RestorePointSchedule.NextSlot(cloudPcId, TimeSpan.FromHours(12), Start.AddHours(1)); slot <= now; slot += TimeSpan.FromHours(12))
        {
            slots++;
        }

        Assert.InRange(slots, 119, 120);
        Assert.Equal(slots, created.Count(name => !manualNames.Contains(name)));
        Assert.Equal(created.Count, created.Distinct().Count());

        var shortTerm = points.Where(p => p.Retention == RestorePointRetention.ShortTerm).OrderByDescending(p => p.CreatedAt).ToList();
        Assert.Equal(10, shortTerm.Count);
        Assert.True(now - shortTerm[^1].CreatedAt <= TimeSpan.FromHours(12 * 11), "the short-term points are the newest ones");

        var longTerm = points.Where(p => p.Retention == RestorePointRetention.LongTerm).OrderBy(p => p.CreatedAt).ToList();
        Assert.Equal(4, longTerm.Count);
        Assert.All(longTerm.Zip(longTerm.Skip(1)), pair => Assert.True(pair.Second.CreatedAt - pair.First.CreatedAt >= TimeSpan.FromDays(7)));
        Assert.All(longTerm, p => Assert.True(now - p.CreatedAt < TimeSpan.FromDays(28)));

        // The day-3 manual point expired on day 31; the day-50 one replaced the day-40 one.
        var manual = Assert.Single(points, p => p.Type == RestorePointType.Manual);
        Assert.Equal(Start.AddDays(50), manual.CreatedAt);
        Assert.Equal(Start.AddDays(78), manual.ExpiresAt);

        // Every point that retention let go is gone from the disk too, and every kept one is there.
        Assert.All(points, p => Assert.Equal(RestorePointStatus.Ready, p.Status));
        Assert.Equal(points.Select(p => p.SnapshotName).Order(), disk.Order());
        Assert.Equal(15, disk.Count);
    }

    [Fact]
    public async Task A_slot_is_taken_once_however_many_passes_or_instances_run_and_an_outage_costs_one_point_not_one_per_missed_slot()
    {
        // The first pass gives the Cloud PC its slot; passes until the slot take nothing.
        await PassAsync();
        DateTimeOffset slot;
        await using (var db = NewContext())
        {
            slot = (await db.CloudPcs.SingleAsync()).NextRestorePointAt!.Value;
        }

        Assert.InRange(slot - clock.GetUtcNow(), TimeSpan.FromSeconds(1), TimeSpan.FromHours(12));
        clock.Advance(slot - clock.GetUtcNow());

        // Two instances' passes at the same moment, and a third after a crash: one point.
        var first = await RunSchedulerAsync();
        var second = await RunSchedulerAsync();
        await PassAsync();
        Assert.Equal(1, first);
        Assert.Equal(0, second);
        Assert.Single(created);

        // Three days with no instance running (6 slots missed): the next pass takes one point, and schedules the next slot in the future.
        clock.Advance(TimeSpan.FromDays(3));
        await PassAsync();
        Assert.Equal(2, created.Count);
        await using (var db = NewContext())
        {
            var next = (await db.CloudPcs.SingleAsync()).NextRestorePointAt!.Value;
            Assert.InRange(next - clock.GetUtcNow(), TimeSpan.FromSeconds(1), TimeSpan.FromHours(12));
        }
    }

    [Fact]
    public void Slots_are_spread_over_the_period_and_stable()
    {
        var period = TimeSpan.FromHours(4);
        var now = Start.AddMinutes(17);
        // Version 7 ids of one millisecond that differ only in their random bits, as Guid.CreateVersion7 makes them,
        // but from a fixed seed: the spread below is a property of the hash, checked the same way on every run.
        var random = new Random(20261127);
        var template = Guid.CreateVersion7(now).ToByteArray();
        // Its 12 random bits beside the version (little-endian third field) from the seed too.
        template[6] = (byte)random.Next(256);
        template[7] = (byte)(0x70 | random.Next(16));
        var ids = Enumerable.Range(0, 400).Select(_ =>
        {
            var bytes = (byte[])template.Clone();
            random.NextBytes(bytes.AsSpan(9));
            bytes[8] = (byte)(0x80 | random.Next(0x40));
            return new Guid(bytes);
        }).ToList();
        Assert.Equal(400, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Equal(7, id.Version));
        var slots = ids.Select(id => RestorePointSchedule.NextSlot(id, period, now)).ToList();

        Assert.All(slots, s => Assert.InRange(s - now, TimeSpan.FromTicks(1), period));
        Assert.Equal(slots, ids.Select(id => RestorePointSchedule.NextSlot(id, period, now)));
        Assert.All(ids.Zip(slots), pair => Assert.Equal(pair.Second + period, RestorePointSchedule.NextSlot(pair.First, period, pair.Second)));

        // Cloud PCs made in the same millisecond land in every quarter hour of the period; none holds a tenth of them.
        var quarters = slots.GroupBy(s => (int)((s - now).Ticks / TimeSpan.FromMinutes(15).Ticks)).ToList();
        Assert.Equal(16, quarters.Count);
        Assert.All(quarters, q => Assert.True(q.Count() < 40, $"{q.Count()} of 400 in one quarter hour"));
    }

    private readonly HashSet<string> manualNames = [];

    private async Task TakeManualAsync()
    {
        // As POST .../createSnapshot does: the point and its command in one transaction.
        await using var db = NewContext();
        var point = new RestorePoint
        {
            Id = Guid.CreateVersion7(clock.GetUtcNow()), TenantId = (await db.CloudPcs.SingleAsync()).TenantId, CloudPcId = cloudPcId, VmId = vmId,
            Type = RestorePointType.Manual, Status = RestorePointStatus.Creating, CreatedAt = clock.GetUtcNow(),
        };
        db.RestorePoints.Add(point);
        db.Publish(new RunVmOperation(point.Id, vmId, "CreateSnapshot", point.SnapshotName));
        await db.SaveChangesAsync();
        manualNames.Add(point.SnapshotName);
    }

    /// <summary>One scheduler pass, then the stand-in host runs every command it queued and reports each.</summary>
    private async Task PassAsync()
    {
        await RunSchedulerAsync();
        while (true)
        {
            List<OutboxMessage> pending;
            await using (var db = NewContext())
            {
                pending = await db.OutboxMessages.Where(m => m.DispatchedAt == null).OrderBy(m => m.CreatedAt).ToListAsync();
                pending.ForEach(m => m.DispatchedAt = clock.GetUtcNow());
                await db.SaveChangesAsync();
            }

            var commands = pending.Where(m => m.MessageType == "compute.runVmOperation.v1")
                .Select(m => JsonSerializer.Deserialize<RunVmOperation>(m.Body, MessageJson.Options)!).ToList();
            if (commands.Count == 0)
            {
                return;
            }

            foreach (var command in commands)
            {
                switch (command.Kind)
                {
                    case "CreateSnapshot":
                        Assert.True(disk.Add(command.Argument!), $"{command.Argument} was taken twice");
                        created.Add(command.Argument!);
                        break;
                    case "DeleteSnapshot":
                        Assert.True(disk.Remove(command.Argument!), $"{command.Argument} was deleted but is not on the disk");
                        break;
                    default:
                        Assert.Fail($"unexpected command {command.Kind}");
                        break;
                }

                await using var db = NewContext();
                var handlers = new OrchestrationHandlers(db, new Lifecycle(db, Options.Create(options), clock), Options.Create(options), clock);
                await handlers.HandleAsync(new VmOperationCompleted(command.OperationId, vmId, command.Kind, true, command.Argument, clock.GetUtcNow()),
                    new MessageContext(Guid.NewGuid(), "provisioning", 1), CancellationToken.None);
            }
        }
    }

    private async Task<int> RunSchedulerAsync()
    {
        await using var db = NewContext();
        return await RestorePointScheduler.RunOnceAsync(db, options, clock, NullLogger.Instance, CancellationToken.None);
    }

    private async Task<List<RestorePoint>> PointsAsync()
    {
        await using var db = NewContext();
        return await db.RestorePoints.AsNoTracking().ToListAsync();
    }

    private SqliteProvisioningDbContext NewContext() => new(
        new DbContextOptionsBuilder<SqliteProvisioningDbContext>().UseSqlite($"Data Source={Path.Combine(folder.Path, "provisioning.db")}").Options, clock);
}
