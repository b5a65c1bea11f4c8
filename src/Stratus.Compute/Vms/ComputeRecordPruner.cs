using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Compute.Persistence;
using Stratus.Platform.Jobs;

namespace Stratus.Compute.Vms;

/// <summary>
/// Forgets finished VM operations after <see cref="ComputeOptions.FinishedOperationRetention"/> and tombstones
/// their host confirmed after <see cref="ComputeOptions.TombstoneRetention"/>, so that neither table grows without
/// end; so are the per-host tombstones of VMs moved away from a lost host (MovedVm), once that host confirmed it
/// removed the stale disk (or was removed itself). A tombstone still waiting for its host's confirmation is an order
/// to delete a disk, never pruned. Run by the instance that leads the job.
/// </summary>
internal sealed partial class ComputeRecordPruner(IServiceScopeFactory scopes, IOptions<ComputeOptions> options, TimeProvider clock, ILogger<ComputeRecordPruner> logger)
    : IPeriodicJob
{
    public string Name => "compute.recordPruner";

    public TimeSpan Interval => options.Value.PruneInterval;

    public Task RunAsync(CancellationToken cancellationToken) => PruneAsync(cancellationToken);

    internal async Task<(int Operations, int Tombstones, int Moved)> PruneAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComputeDbContext>();
        var now = clock.GetUtcNow();
        var operationsBefore = now - options.Value.FinishedOperationRetention;
        var tombstonesBefore = now - options.Value.TombstoneRetention;
        var operations = await db.VmOperations.Where(o => o.Status != VmOperationStatus.Pending && o.CompletedAt < operationsBefore).ExecuteDeleteAsync(cancellationToken);
        var tombstones = await db.DeletedVms.Where(d => d.ConfirmedAt != null && d.ConfirmedAt < tombstonesBefore).ExecuteDeleteAsync(cancellationToken);
        var moved = await db.MovedVms.Where(m => m.ConfirmedAt != null && m.ConfirmedAt < tombstonesBefore).ExecuteDeleteAsync(cancellationToken);
        LogPruned(logger, operations, tombstones, moved);
        return (operations, tombstones, moved);
    }

    [LoggerMessage(EventId = 3004, Level = LogLevel.Debug,
        Message = "Pruned {Operations} finished VM operations, {Tombstones} confirmed tombstones and {Moved} confirmed moved-VM tombstones past their retention")]
    private static partial void LogPruned(ILogger logger, int operations, int tombstones, int moved);
}
