using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Compute.Persistence;

namespace Stratus.Compute.Vms;

/// <summary>
/// Forgets finished VM operations after <see cref="ComputeOptions.FinishedOperationRetention"/> and tombstones
/// their host confirmed after <see cref="ComputeOptions.TombstoneRetention"/>, so that neither table grows without
/// end. A tombstone still waiting for its host's confirmation is an order to delete a disk, never pruned. Every
/// instance prunes; a delete that finds nothing costs two statements an interval.
/// </summary>
internal sealed partial class ComputeRecordPruner(IServiceScopeFactory scopes, IOptions<ComputeOptions> options, TimeProvider clock, ILogger<ComputeRecordPruner> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PruneAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Never stops the host: the next interval tries again.
                LogPruneFailed(logger, e);
            }

            await Task.Delay(options.Value.PruneInterval, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    internal async Task<(int Operations, int Tombstones)> PruneAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComputeDbContext>();
        var now = clock.GetUtcNow();
        var operationsBefore = now - options.Value.FinishedOperationRetention;
        var tombstonesBefore = now - options.Value.TombstoneRetention;
        var operations = await db.VmOperations.Where(o => o.Status != VmOperationStatus.Pending && o.CompletedAt < operationsBefore).ExecuteDeleteAsync(cancellationToken);
        var tombstones = await db.DeletedVms.Where(d => d.ConfirmedAt != null && d.ConfirmedAt < tombstonesBefore).ExecuteDeleteAsync(cancellationToken);
        LogPruned(logger, operations, tombstones);
        return (operations, tombstones);
    }

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Pruning finished VM operations and confirmed tombstones failed; retrying next interval")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Debug, Message = "Pruned {Operations} finished VM operations and {Tombstones} confirmed tombstones past their retention")]
    private static partial void LogPruned(ILogger logger, int operations, int tombstones);
}
