using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Platform.Persistence;
using Stratus.Platform.Regions;

namespace Stratus.Platform.Messaging;

/// <summary>
/// Moves committed outbox rows of one service into the durable queues of every subscriber. At least once:
/// a relay that dies after enqueuing and before marking the row dispatched enqueues again, and the unique
/// (queue, source message id) key turns that second enqueue into nothing. A row the queue table refuses for any
/// other reason goes to the dead letters with its error, so that it never holds the rows behind it.
/// </summary>
internal sealed partial class OutboxRelay<TContext>(
    IServiceScopeFactory scopes,
    OutboxSignal outboxSignal,
    QueueSignal queueSignal,
    MessagingHealth health,
    RegionWritability region,
    IOptions<MessagingOptions> options,
    TimeProvider clock,
    ILogger<OutboxRelay<TContext>> logger) : BackgroundService
    where TContext : ServiceDbContext
{
    private const int BatchSize = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var name = $"outbox:{typeof(TContext).Name}";
        var lastPass = clock.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            var relayed = 0;
            try
            {
                // Standby mode (issue 19): the outbox stays as it is while this instance's region may not write; the
                // time spent so is no stall.
                if (await region.WaitUntilWritableAsync(name, stoppingToken))
                {
                    lastPass = clock.GetUtcNow();
                }

                relayed = await RelayBatchAsync(stoppingToken);
                lastPass = clock.GetUtcNow();
                health.ReportSuccess(name);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested && IsLostRace(e))
            {
                // Another instance relayed the same rows at the same moment (a unique-key conflict or a
                // deadlock between the two inserts): that is not a failure; the next pass sees them queued.
                // Only losing every pass for long is.
                LogLostRace(logger, typeof(TContext).Name);
                if (clock.GetUtcNow() - lastPass > options.Value.RelayStalledAfter)
                {
                    health.ReportFailure(name, $"the outbox relay is stalled: no pass completed since {lastPass:u}; the last lost a race ({Describe(e)})");
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                health.ReportFailure(name, $"the outbox relay is stalled: no pass completed since {lastPass:u}: {Describe(e)}");
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
        var enqueued = new List<QueueMessage>();
        foreach (var message in batch)
        {
            foreach (var subscription in subscriptions.Where(s => s.MessageType == message.MessageType))
            {
                if (alreadyQueued.Contains((subscription.Queue, message.Id)))
                {
                    continue;
                }

                enqueued.Add(new QueueMessage
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
        platform.QueueMessages.AddRange(enqueued);
        try
        {
            await platform.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (!IsLostRace(e))
        {
            // Some row is refused for a reason of its own: find it by enqueuing one at a time.
            platform.ChangeTracker.Clear();
            foreach (var row in enqueued)
            {
                await EnqueueOrDeadLetterAsync(platform, row, service.Schema, cancellationToken);
            }
        }

        await service.OutboxMessages
            .Where(m => ids.Contains(m.Id) && m.DispatchedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.DispatchedAt, now), cancellationToken);
        queueSignal.Notify();
        LogRelayed(logger, batch.Count, typeof(TContext).Name);
        return batch.Count;
    }

    /// <summary>Enqueues one row; one the queue table refuses (not for a lost race) becomes a dead letter with the error.</summary>
    private async Task EnqueueOrDeadLetterAsync(PlatformDbContext platform, QueueMessage row, string schema, CancellationToken cancellationToken)
    {
        string error;
        try
        {
            await SaveOneAsync(platform, row, cancellationToken);
            return;
        }
        catch (DbUpdateException e) when (IsLostRace(e))
        {
            // Another instance enqueued it meanwhile.
            return;
        }
        catch (DbUpdateException e)
        {
            error = $"The outbox relay could not enqueue it: {Describe(e)}";
        }

        LogDeadLettered(logger, row.MessageType, row.Queue, row.SourceMessageId, error);
        var dead = Copy(row, row.Body, error);
        try
        {
            await SaveOneAsync(platform, dead, cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The body itself is what the table refuses: the dead letter says where it stays. If even this is
            // refused, the pass fails and /readyz says that the relay is stalled.
            await SaveOneAsync(platform, Copy(row, "", $"{error} Its body could not be kept here; it stays in the outbox of {schema} as message {row.SourceMessageId}."), cancellationToken);
        }

        static QueueMessage Copy(QueueMessage row, string body, string error) => new()
        {
            Id = row.Id,
            Queue = row.Queue,
            MessageType = row.MessageType,
            Body = body,
            SourceMessageId = row.SourceMessageId,
            Status = QueueMessageStatus.Dead,
            CreatedAt = row.CreatedAt,
            VisibleAt = row.VisibleAt,
            LastError = error,
        };
    }

    private static async Task SaveOneAsync(PlatformDbContext platform, QueueMessage row, CancellationToken cancellationToken)
    {
        platform.QueueMessages.Add(row);
        try
        {
            await platform.SaveChangesAsync(cancellationToken);
        }
        finally
        {
            platform.ChangeTracker.Clear();
        }
    }

    /// <summary>
    /// A unique-key conflict on (queue, source message id) or a deadlock between two relays' inserts: another instance
    /// relayed the same rows at the same moment. Every other error is the row's own, or the database's.
    /// </summary>
    internal static bool IsLostRace(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case Npgsql.PostgresException postgres:
                    return postgres.SqlState is Npgsql.PostgresErrorCodes.DeadlockDetected
                        || (postgres.SqlState is Npgsql.PostgresErrorCodes.UniqueViolation && postgres.ConstraintName == UniqueKey);
                case Microsoft.Data.Sqlite.SqliteException sqlite:
                    // SQLITE_CONSTRAINT_UNIQUE, on the one unique index of the table besides its key.
                    return sqlite.SqliteExtendedErrorCode == 2067 && sqlite.Message.Contains("queue_messages.source_message_id", StringComparison.Ordinal);
            }
        }

        return false;
    }

    private const string UniqueKey = "IX_queue_messages_queue_source_message_id";

    private static string Describe(Exception exception)
    {
        var innermost = exception;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        return innermost is Npgsql.PostgresException postgres ? $"{postgres.SqlState}: {postgres.MessageText}" : innermost.Message;
    }

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug, Message = "Another instance relayed the outbox of {Context} at the same moment")]
    private static partial void LogLostRace(ILogger logger, string context);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Relaying the outbox of {Context} failed; retrying")]
    private static partial void LogRelayFailed(ILogger logger, Exception exception, string context);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Relaying {MessageType} {MessageId} to queue {Queue}: moved to the dead letters, the queue table refuses it: {Error}")]
    private static partial void LogDeadLettered(ILogger logger, string messageType, string queue, Guid messageId, string error);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Relayed {Count} messages from the outbox of {Context}")]
    private static partial void LogRelayed(ILogger logger, int count, string context);
}
