using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Platform.Jobs;
using Stratus.Platform.Persistence;

namespace Stratus.Platform.Messaging;

/// <summary>
/// Forgets handled queue messages after <see cref="MessagingOptions.HandledMessageRetention"/>. Dead letters stay until
/// an operator replays them. Hourly, in the instance that leads the job, in batches so that no delete holds the table.
/// </summary>
internal sealed partial class QueueRetention(IServiceScopeFactory scopes, IOptions<MessagingOptions> options, TimeProvider clock, ILogger<QueueRetention> logger) : IPeriodicJob
{
    public string Name => "platform.queueRetention";

    public TimeSpan Interval => options.Value.RetentionInterval;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        var before = clock.GetUtcNow() - options.Value.HandledMessageRetention;
        var pruned = await Retention.DeleteInBatchesAsync(
            db.QueueMessages.Where(m => m.Status == QueueMessageStatus.Done && m.HandledAt < before).Select(m => m.Id),
            ids => db.QueueMessages.Where(m => ids.Contains(m.Id)), options.Value.RetentionBatchSize, cancellationToken);
        LogPruned(logger, pruned);
    }

    [LoggerMessage(EventId = 1005, Level = LogLevel.Debug, Message = "Pruned {Count} handled queue messages")]
    private static partial void LogPruned(ILogger logger, int count);
}

/// <summary>
/// Forgets a service store's relayed outbox rows after <see cref="MessagingOptions.RelayedOutboxRetention"/> and its
/// inbox records after <see cref="MessagingOptions.InboxRetention"/>, which is far longer than any redelivery comes.
/// </summary>
internal sealed partial class ServiceStoreRetention<TContext>(IServiceScopeFactory scopes, IOptions<MessagingOptions> options, TimeProvider clock, ILogger<ServiceStoreRetention<TContext>> logger) : IPeriodicJob
    where TContext : ServiceDbContext
{
    public string Name => $"platform.messageRetention.{typeof(TContext).Name}";

    public TimeSpan Interval => options.Value.RetentionInterval;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        var now = clock.GetUtcNow();
        var relayedBefore = now - options.Value.RelayedOutboxRetention;
        var outbox = await Retention.DeleteInBatchesAsync(
            db.OutboxMessages.Where(m => m.DispatchedAt != null && m.DispatchedAt < relayedBefore).Select(m => m.Id),
            ids => db.OutboxMessages.Where(m => ids.Contains(m.Id)), options.Value.RetentionBatchSize, cancellationToken);
        var processedBefore = now - options.Value.InboxRetention;
        var inbox = await Retention.DeleteInBatchesAsync(
            db.ProcessedMessages.Where(m => m.ProcessedAt < processedBefore).Select(m => m.MessageId),
            ids => db.ProcessedMessages.Where(m => ids.Contains(m.MessageId) && m.ProcessedAt < processedBefore), options.Value.RetentionBatchSize, cancellationToken);
        LogPruned(logger, outbox, inbox, db.Schema);
    }

    [LoggerMessage(EventId = 1006, Level = LogLevel.Debug, Message = "Pruned {Outbox} relayed outbox rows and {Inbox} inbox records of {Schema}")]
    private static partial void LogPruned(ILogger logger, int outbox, int inbox, string schema);
}

internal static class Retention
{
    /// <summary>Deletes what <paramref name="expired"/> finds, a batch of ids at a time (each its own statement).</summary>
    public static async Task<int> DeleteInBatchesAsync<TEntity>(
        IQueryable<Guid> expired, Func<List<Guid>, IQueryable<TEntity>> rows, int batchSize, CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var ids = await expired.Take(batchSize).ToListAsync(cancellationToken);
            if (ids.Count == 0)
            {
                return total;
            }

            total += await rows(ids).ExecuteDeleteAsync(cancellationToken);
            if (ids.Count < batchSize)
            {
                return total;
            }
        }
    }
}
