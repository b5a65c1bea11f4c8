using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Stratus.Compute.Persistence;
using Stratus.Compute.Vms;
using Stratus.Testing;

namespace Stratus.Compute.Tests;

/// <summary>
/// Two months of a busy compute store on real SQLite, a pruning pass a day: finished operations and confirmed
/// tombstones stay bounded by their retention, while a pending operation and a tombstone its host never
/// confirmed (an order to delete a disk) stay however old they are; so do the moved-VM tombstones of host loss.
/// </summary>
public sealed class ComputeRecordPrunerTests : IAsyncLifetime
{
    private const int OperationsADay = 50;
    private const int TombstonesADay = 20;
    private const int MovesADay = 10;
    private readonly ComputeOptions options = new();
    private ComputeStore store = null!;

    public async Task InitializeAsync() => store = await ComputeStore.CreateAsync();

    public async Task DisposeAsync() => await store.DisposeAsync();

    [Fact]
    public async Task Finished_operations_and_confirmed_tombstones_stay_bounded_by_their_retention_and_pending_ones_stay()
    {
        var pruner = new ComputeRecordPruner(store.Scopes, Options.Create(options), store.Clock, NullLogger<ComputeRecordPruner>.Instance);
        var pendingOperation = Guid.NewGuid();
        var unconfirmedOrder = Guid.NewGuid();
        var unconfirmedMove = Guid.NewGuid();
        await using (var db = store.NewContext())
        {
            var start = store.Clock.GetUtcNow();
            db.VmOperations.Add(new VmOperation { Id = pendingOperation, VmId = Guid.NewGuid(), Kind = VmOperationKind.Restart, Status = VmOperationStatus.Pending, CreatedAt = start });
            db.DeletedVms.Add(new DeletedVm { Id = unconfirmedOrder, HostId = Guid.NewGuid(), DeletedAt = start });
            db.MovedVms.Add(new MovedVm { VmId = unconfirmedMove, FromHostId = Guid.NewGuid(), ToHostId = Guid.NewGuid(), MovedAt = start });
            await db.SaveChangesAsync();
        }

        var operationBound = (options.FinishedOperationRetention.Days + 1) * OperationsADay;
        var tombstoneBound = (options.TombstoneRetention.Days + 1) * TombstonesADay;
        var moveBound = (options.TombstoneRetention.Days + 1) * MovesADay;
        var pruned = (Operations: 0, Tombstones: 0, Moved: 0);
        for (var day = 0; day < 60; day++)
        {
            await AddADayAsync();
            var result = await pruner.PruneAsync(CancellationToken.None);
            pruned = (pruned.Operations + result.Operations, pruned.Tombstones + result.Tombstones, pruned.Moved + result.Moved);

            await using var db = store.NewContext();
            var finished = await db.VmOperations.CountAsync(o => o.Status != VmOperationStatus.Pending);
            var confirmed = await db.DeletedVms.CountAsync(d => d.ConfirmedAt != null);
            var confirmedMoves = await db.MovedVms.CountAsync(m => m.ConfirmedAt != null);
            Assert.True(confirmedMoves <= moveBound, $"day {day}: {confirmedMoves} confirmed moved-VM tombstones kept, more than {moveBound}");
            Assert.True(finished <= operationBound, $"day {day}: {finished} finished operations kept, more than {operationBound}");
            Assert.True(confirmed <= tombstoneBound, $"day {day}: {confirmed} confirmed tombstones kept, more than {tombstoneBound}");
            store.Clock.Advance(TimeSpan.FromDays(1));
        }

        Assert.Equal(60 * OperationsADay - operationBound, pruned.Operations);
        Assert.Equal(60 * TombstonesADay - tombstoneBound, pruned.Tombstones);
        Assert.Equal(60 * MovesADay - moveBound, pruned.Moved);
        await using var check = store.NewContext();
        Assert.True(await check.VmOperations.AnyAsync(o => o.Id == pendingOperation), "a pending operation is never pruned");
        Assert.True(await check.DeletedVms.AnyAsync(d => d.Id == unconfirmedOrder), "a tombstone its host has not confirmed is never pruned");
        Assert.True(await check.MovedVms.AnyAsync(m => m.VmId == unconfirmedMove), "a moved VM whose old host has not removed its stale disk is never pruned");
    }

    private async Task AddADayAsync()
    {
        await using var db = store.NewContext();
        var now = store.Clock.GetUtcNow();
        for (var i = 0; i < OperationsADay; i++)
        {
            db.VmOperations.Add(new VmOperation
            {
                Id = Guid.NewGuid(), VmId = Guid.NewGuid(), Kind = VmOperationKind.CreateSnapshot, Argument = "daily",
                Status = i % 5 == 0 ? VmOperationStatus.Failed : VmOperationStatus.Succeeded, CreatedAt = now.AddMinutes(-1), CompletedAt = now,
            });
        }

        for (var i = 0; i < TombstonesADay; i++)
        {
            db.DeletedVms.Add(new DeletedVm { Id = Guid.NewGuid(), HostId = Guid.NewGuid(), DeletedAt = now.AddMinutes(-1), ConfirmedAt = now });
        }

        for (var i = 0; i < MovesADay; i++)
        {
            db.MovedVms.Add(new MovedVm { VmId = Guid.NewGuid(), FromHostId = Guid.NewGuid(), ToHostId = Guid.NewGuid(), MovedAt = now.AddMinutes(-1), ConfirmedAt = now });
        }

        await db.SaveChangesAsync();
    }
}
