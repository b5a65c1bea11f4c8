using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Platform.Persistence;

namespace Stratus.Platform.Messaging;

/// <summary>
/// Moves committed outbox rows of one service into the durable queues of every subscriber. At least once:
/// a relay that dies after enqueuing and before marking the row dispatched enqueues again, and the unique
/// (queue, source message id) key turns that second enqueue into nothing.
/// </summary>
internal sealed partial class OutboxRelay<TContext>(
    IServiceScopeFactory scopes,
    OutboxSignal outboxSignal,
    QueueSignal queueSignal,
    MessagingHealth health,
    IOptions<MessagingOptions> options,
    TimeProvider clock,
    ILogger<OutboxRelay<TContext>> logger) : BackgroundService
    where TContext : ServiceDbContext
{
    private const int BatchSize = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var name = $"outbox:{typeof(TContext).Name}";
        while (!stoppingToken.IsCancellationRequested)
        {
            var relayed = 0;
            try
            {
                relayed = await RelayBatchAsync(stoppingToken);
                health.ReportSuccess(name);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested && IsLostRace(e))
            {
                // Another instance relayed the same rows at the same moment (a unique-key conflict or a
                // deadlock between the two inserts): that is not a failure; the next pass sees them queued.
                LogLostRace(logger, typeof(TContext).Name);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                health.ReportFailure(name, e.Message);
                LogRelayFailed(logger, e, typeof(TContext).Name);
                await Task.Delay(options.Value.PollInterval * 4, clock, stoppingToken);
            }

            if (relayed < BatchSize)
            {
                await outboxSignal.WaitAsync(options.Value.PollInterval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    internal async Task<int> RelayBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var service = scope.ServiceProvider.GetRequiredService<TContext>();
        var platform = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();

        var batch = await service.OutboxMessages.AsNoTracking()
            .Where(m => m.DispatchedAt == null)
            .OrderBy(m => m.CreatedAt).ThenBy(m => m.Id)
            .Take(BatchSize)
            .ToListAsync(cancellationToken);
        if (batch.Count == 0)
        {
            return 0;
        }

        var types = batch.Select(m => m.MessageType).Distinct().ToList();
        var subscriptions = await platform.Subscriptions.AsNoTracking()
            .Where(s => types.Contains(s.MessageType))
            .OrderBy(s => s.Queue)
            .ToListAsync(cancellationToken);
        var ids = batch.Select(m => m.Id).ToList();
        // By queue and source id, the unique index's columns: by source id alone the database reads every
        // message ever queued, in every pass.
        var queues = subscriptions.Select(s => s.Queue).Distinct().ToList();
        var alreadyQueued = (await platform.QueueMessages.AsNoTracking()
                .Where(q => queues.Contains(q.Queue) && ids.Contains(q.SourceMessageId))
                .Select(q => new { q.Queue, q.SourceMessageId })
                .ToListAsync(cancellationToken))
            .Select(q => (q.Queue, q.SourceMessageId))
            .ToHashSet();

        var now = clock.GetUtcNow();
        foreach (var message in batch)
        {
            foreach (var subscription in subscriptions.Where(s => s.MessageType == message.MessageType))
            {
                if (alreadyQueued.Contains((subscription.Queue, message.Id)))
                {
                    continue;
                }

                platform.QueueMessages.Add(new QueueMessage
                {
                    Id = Guid.CreateVersion7(now),
                    Queue = subscription.Queue,
                    MessageType = message.MessageType,
                    Body = message.Body,
                    SourceMessageId = message.Id,
                    Status = QueueMessageStatus.Pending,
                    CreatedAt = now,
                    VisibleAt = message.DeliverAt is { } at && at > now ? at : now,
                });
            }
        }

        // Another instance relaying the same rows at the same moment makes this throw on the unique key;
        // the next pass then sees them queued and only marks them dispatched.
        await platform.SaveChangesAsync(cancellationToken);
        await service.OutboxMessages
            .Where(m => ids.Contains(m.Id) && m.DispatchedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.DispatchedAt, now), cancellationToken);
        queueSignal.Notify();
        LogRelayed(logger, batch.Count, typeof(TContext).Name);
        return batch.Count;
    }

    private static bool IsLostRace(Exception e) =>
        e is DbUpdateException || e.InnerException is Npgsql.PostgresException { SqlState: "40P01" or "23505" }
        || e.InnerException?.InnerException is Npgsql.PostgresException { SqlState: "40P01" or "23505" };

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug, Message = "Another instance relayed the outbox of {Context} at the same moment")]
    private static partial void LogLostRace(ILogger logger, string context);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Relaying the outbox of {Context} failed; retrying")]
    private static partial void LogRelayFailed(ILogger logger, Exception exception, string context);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Relayed {Count} messages from the outbox of {Context}")]
    private static partial void LogRelayed(ILogger logger, int count, string context);
}
