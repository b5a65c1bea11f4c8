using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Platform.Regions;

namespace Stratus.Platform.Messaging;

/// <summary>
/// Claims messages of the queues this process consumes, hands each to its handler, and completes, retries
/// with backoff, or dead-letters it. Several instances may run on one database: a claim is a lease that
/// only one of them holds at a time.
/// </summary>
internal sealed partial class QueueWorker(
    IServiceScopeFactory scopes,
    IEnumerable<HandlerRegistration> registrations,
    QueueSignal signal,
    MessagingHealth health,
    RegionWritability region,
    IOptions<MessagingOptions> options,
    TimeProvider clock,
    ILogger<QueueWorker> logger) : BackgroundService
{
    private static readonly ActivitySource Activity = new("Stratus.Messaging");

    /// <summary>How long a handler that ignores its cancelled token keeps its slot before the worker gives up on it.</summary>
    private static readonly TimeSpan AbandonAfter = TimeSpan.FromSeconds(10);

    private readonly string instance = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    private readonly Dictionary<(string Queue, string Type), HandlerRegistration> handlers =
        registrations.ToDictionary(r => (r.Queue, r.MessageType));

    /// <summary>One loop per queue, each with its own handlers: a slow queue never holds another.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(handlers.Keys.Select(k => k.Queue).Distinct().Select(queue => RunQueueAsync(queue, stoppingToken)));

    private async Task RunQueueAsync(string queue, CancellationToken stoppingToken)
    {
        await Task.Yield();
        var wake = signal.Listen();
        var concurrency = options.Value.ConcurrencyOf(queue);
        using var slots = new SemaphoreSlim(concurrency, concurrency);
        var running = new HashSet<Task>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Standby mode (issue 19): no claim while this instance's region may not write; the messages wait.
                await region.WaitUntilWritableAsync($"queue:{queue}", stoppingToken);
                await slots.WaitAsync(stoppingToken);
                var free = 1;
                while (free < Math.Min(concurrency, options.Value.BatchSize) && slots.Wait(0))
                {
                    free++;
                }

                List<QueueMessage> claimed;
                try
                {
                    claimed = await ClaimAsync(queue, free, stoppingToken);
                    health.ReportSuccess($"queue:{queue}");
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    slots.Release(free);
                    health.ReportFailure($"queue:{queue}", e.Message);
                    LogQueueFailed(logger, e, queue);
                    await wake.WaitAsync(options.Value.PollInterval * 4, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    continue;
                }

                if (free > claimed.Count)
                {
                    slots.Release(free - claimed.Count);
                }

                foreach (var message in claimed)
                {
                    var handling = HandleInSlotAsync(message, slots, wake, stoppingToken);
                    lock (running)
                    {
                        running.Add(handling);
                    }

                    _ = handling.ContinueWith(done =>
                    {
                        lock (running)
                        {
                            running.Remove(done);
                        }
                    }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }

                if (claimed.Count == 0)
                {
                    await wake.WaitAsync(options.Value.PollInterval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        Task[] left;
        lock (running)
        {
            left = [.. running];
        }

        await Task.WhenAll(left).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task HandleInSlotAsync(QueueMessage message, SemaphoreSlim slots, WakeSignal wake, CancellationToken stoppingToken)
    {
        try
        {
            await HandleAsync(message, stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            // Completing, retrying or dead-lettering failed (the database is away): the lease runs out and the
            // message comes again.
            LogQueueFailed(logger, e, message.Queue);
        }
        finally
        {
            slots.Release();
            wake.Notify();
        }
    }

    internal async Task<List<QueueMessage>> ClaimAsync(string queue, int count, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var store = new QueueStore(scope.ServiceProvider.GetRequiredService<PlatformDbContext>(), clock);
        var spent = await store.DeadLetterSpentAsync(queue, options.Value.MaxAttempts, cancellationToken);
        if (spent > 0)
        {
            LogSpentDeadLettered(logger, spent, queue, options.Value.MaxAttempts);
        }

        return await store.ClaimAsync(queue, instance, count, options.Value.LeaseDuration, options.Value.MaxAttempts, cancellationToken);
    }

    /// <summary>Claims and handles one batch of a queue, the messages one after another (for tests that drive the worker).</summary>
    internal async Task<int> ProcessBatchAsync(string queue, CancellationToken cancellationToken)
    {
        var claimed = await ClaimAsync(queue, options.Value.BatchSize, cancellationToken);
        foreach (var message in claimed)
        {
            await HandleAsync(message, cancellationToken);
        }

        return claimed.Count;
    }

    private async Task<bool> RenewLeaseAsync(QueueMessage message, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var store = new QueueStore(scope.ServiceProvider.GetRequiredService<PlatformDbContext>(), clock);
        return await store.RenewAsync(message, options.Value.LeaseDuration, cancellationToken);
    }

    /// <summary>
    /// Renews the message's lease every third of it while its handler runs: the lease can then be short, so that
    /// the messages of an instance that dies (or loses its database mid-batch) go to another within one lease,
    /// while a handler that takes longer than that (a slow call to another service) keeps its message.
    /// </summary>
    private async Task KeepLeaseAsync(QueueMessage message, CancellationToken handlerDone)
    {
        var every = options.Value.LeaseDuration / 3;
        while (true)
        {
            try
            {
                await Task.Delay(every, clock, handlerDone);
                if (!await RenewLeaseAsync(message, handlerDone))
                {
                    // Another instance took it after a lapse; the inbox keeps the effect single.
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e)
            {
                // The database is away for a moment: try again at the next third, the lease may still hold.
                LogLeaseRenewalFailed(logger, e, message.MessageType);
            }
        }
    }

    private async Task HandleAsync(QueueMessage message, CancellationToken cancellationToken)
    {
        var context = new MessageContext(message.SourceMessageId, message.Queue, message.Attempts);
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["MessageId"] = message.SourceMessageId, ["Queue"] = message.Queue });
        using var activity = Activity.StartActivity($"handle {message.MessageType}", ActivityKind.Consumer);
        activity?.SetTag("messaging.destination.name", message.Queue);
        activity?.SetTag("messaging.message.id", message.SourceMessageId.ToString());

        var (error, permanent) = handlers.TryGetValue((message.Queue, message.MessageType), out var registration)
            ? await InvokeAsync(registration, message, context, cancellationToken)
            : ($"No handler for {message.MessageType} on queue {message.Queue} in this version of Stratus.", true);

        await using var completionScope = scopes.CreateAsyncScope();
        var store = new QueueStore(completionScope.ServiceProvider.GetRequiredService<PlatformDbContext>(), clock);
        if (error is null)
        {
            await store.CompleteAsync(message, cancellationToken);
        }
        else if (permanent || message.Attempts >= options.Value.MaxAttempts)
        {
            await store.DeadLetterAsync(message, error, cancellationToken);
            LogDeadLettered(logger, message.MessageType, message.Queue, message.Attempts, error);
        }
        else
        {
            await store.RetryAsync(message, error, options.Value.RetryDelay(message.Attempts), cancellationToken);
        }
    }

    /// <summary>Runs the handler under its timeout, renewing the lease meanwhile; the error, or null when it took effect.</summary>
    private async Task<(string? Error, bool Permanent)> InvokeAsync(
        HandlerRegistration registration, QueueMessage message, MessageContext context, CancellationToken stoppingToken)
    {
        var timeout = options.Value.HandlerTimeoutOf(message.Queue, message.MessageType, registration.Timeout);
        using var handlerToken = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var leaseToken = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var keepingLease = KeepLeaseAsync(message, leaseToken.Token);
        var handling = RunHandlerAsync(registration, message.Body, context, handlerToken.Token);
        try
        {
            try
            {
                await handling.WaitAsync(timeout, clock, stoppingToken);
            }
            catch (TimeoutException)
            {
                await handlerToken.CancelAsync();
                try
                {
                    await handling.WaitAsync(AbandonAfter, stoppingToken);
                }
                catch (TimeoutException)
                {
                    // It ignores its token; its slot is freed, and the inbox keeps a late effect from counting twice.
                }
                catch (Exception) when (!stoppingToken.IsCancellationRequested)
                {
                    // It ended on its cancelled token, as it should.
                }

                LogHandlerTimedOut(logger, message.MessageType, message.Attempts, timeout);
                return ($"The handler timed out: it ran longer than {timeout} and was cancelled.", false);
            }

            return (null, false);
        }
        catch (System.Text.Json.JsonException e)
        {
            return ($"The message body cannot be read: {e.Message}", true);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            LogHandlerFailed(logger, e, message.MessageType, message.Attempts);
            return ($"{e.GetType().Name}: {e.Message}", false);
        }
        finally
        {
            await leaseToken.CancelAsync();
            await keepingLease;
        }
    }

    private async Task RunHandlerAsync(HandlerRegistration registration, string body, MessageContext context, CancellationToken cancellationToken)
    {
        // Its own task and scope: a handler abandoned after its timeout keeps its scope until it ends.
        await Task.Yield();
        await using var handlerScope = scopes.CreateAsyncScope();
        await registration.Invoke(handlerScope.ServiceProvider, body, context, cancellationToken);
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Reading queue {Queue} failed; retrying")]
    private static partial void LogQueueFailed(ILogger logger, Exception exception, string queue);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Could not renew the lease of a {MessageType} message being handled")]
    private static partial void LogLeaseRenewalFailed(ILogger logger, Exception exception, string messageType);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Handling {MessageType} failed on attempt {Attempt}; it will be retried")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string messageType, int attempt);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Error, Message = "{MessageType} on queue {Queue} moved to the dead letters after {Attempts} attempts: {Error}")]
    private static partial void LogDeadLettered(ILogger logger, string messageType, string queue, int attempts, string error);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Warning, Message = "Handling {MessageType} timed out on attempt {Attempt} after {Timeout}; cancelled")]
    private static partial void LogHandlerTimedOut(ILogger logger, string messageType, int attempt, TimeSpan timeout);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Error, Message = "{Count} messages on queue {Queue} moved to the dead letters: their {Attempts} attempts were spent without an answer")]
    private static partial void LogSpentDeadLettered(ILogger logger, int count, string queue, int attempts);
}

/// <summary>The queue table's state changes, each one statement, each guarded by the caller's lease.</summary>
internal sealed class QueueStore(PlatformDbContext db, TimeProvider clock)
{
    /// <summary>
    /// Claims up to <paramref name="batchSize"/> messages whose lease ran out, never one whose attempts are spent: the
    /// lease of such a message may run out between <see cref="DeadLetterSpentAsync"/> and this claim, and claiming it
    /// would run its handler once more than allowed (and end the process again if that is what it does).
    /// </summary>
    public async Task<List<QueueMessage>> ClaimAsync(string queue, string instance, int batchSize, TimeSpan lease, int maxAttempts, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var claim = $"{instance}:{Guid.NewGuid():N}";
        var until = now + lease;
        if (db.Database.IsNpgsql())
        {
            // SKIP LOCKED: instances that claim at the same moment take different rows instead of waiting
            // and then claiming the same ones again.
            await db.Database.ExecuteSqlAsync($"""
                UPDATE platform.queue_messages SET lease_owner = {claim}, lease_until = {until}, attempts = attempts + 1
                WHERE id IN (
                    SELECT id FROM platform.queue_messages
                    WHERE queue = {queue} AND status = 'Pending' AND visible_at <= {now} AND attempts < {maxAttempts}
                      AND (lease_until IS NULL OR lease_until < {now})
                    ORDER BY visible_at
                    LIMIT {batchSize}
                    FOR UPDATE SKIP LOCKED)
                """, cancellationToken);
        }
        else
        {
            // SQLite runs one writer at a time, so this single statement is the whole claim.
            await db.QueueMessages
                .Where(m => m.Queue == queue && m.Status == QueueMessageStatus.Pending && m.VisibleAt <= now && m.Attempts < maxAttempts
                            && (m.LeaseUntil == null || m.LeaseUntil < now))
                .OrderBy(m => m.VisibleAt)
                .Take(batchSize)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(m => m.LeaseOwner, claim)
                    .SetProperty(m => m.LeaseUntil, until)
                    .SetProperty(m => m.Attempts, m => m.Attempts + 1), cancellationToken);
        }

        // The queue and status are redundant with the claim (only its owner changes a claimed row's status) but
        // let the database find the rows by its index instead of reading every message ever queued.
        var claimed = await db.QueueMessages.AsNoTracking()
            .Where(m => m.Queue == queue && m.Status == QueueMessageStatus.Pending && m.LeaseOwner == claim)
            .ToListAsync(cancellationToken);
        return claimed.OrderBy(m => m.VisibleAt).ToList();
    }

    /// <summary>
    /// Dead-letters the claimable messages whose attempts are all spent: each attempt was counted at its claim and
    /// none answered (the handler's process ended, or it lost its lease), so claiming it again could end the next
    /// process too.
    /// </summary>
    public Task<int> DeadLetterSpentAsync(string queue, int maxAttempts, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var error = $"Its {maxAttempts} attempts were spent without an answer: the handler's process ended (or lost the message's lease) on the last one, so it is not claimed again. ";
        return db.QueueMessages
            .Where(m => m.Queue == queue && m.Status == QueueMessageStatus.Pending && m.VisibleAt <= now
                        && (m.LeaseUntil == null || m.LeaseUntil < now) && m.Attempts >= maxAttempts)
            .ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Status, QueueMessageStatus.Dead)
                .SetProperty(m => m.LeaseOwner, (string?)null)
                .SetProperty(m => m.LeaseUntil, (DateTimeOffset?)null)
                .SetProperty(m => m.LastError, m => error + (m.LastError == null ? "" : "Before: " + m.LastError)), cancellationToken);
    }

    /// <summary>Extends the caller's lease from now; false when the message is no longer the caller's.</summary>
    public async Task<bool> RenewAsync(QueueMessage message, TimeSpan lease, CancellationToken cancellationToken)
    {
        var until = clock.GetUtcNow() + lease;
        return await Owned(message).ExecuteUpdateAsync(s => s.SetProperty(m => m.LeaseUntil, until), cancellationToken) == 1;
    }

    public Task CompleteAsync(QueueMessage message, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return Owned(message).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.Status, QueueMessageStatus.Done)
            .SetProperty(m => m.HandledAt, now)
            .SetProperty(m => m.LeaseOwner, (string?)null)
            .SetProperty(m => m.LeaseUntil, (DateTimeOffset?)null)
            .SetProperty(m => m.LastError, (string?)null), cancellationToken);
    }

    public Task RetryAsync(QueueMessage message, string error, TimeSpan delay, CancellationToken cancellationToken)
    {
        var visibleAt = clock.GetUtcNow() + delay;
        return Owned(message).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.VisibleAt, visibleAt)
            .SetProperty(m => m.LeaseOwner, (string?)null)
            .SetProperty(m => m.LeaseUntil, (DateTimeOffset?)null)
            .SetProperty(m => m.LastError, error), cancellationToken);
    }

    public Task DeadLetterAsync(QueueMessage message, string error, CancellationToken cancellationToken) =>
        Owned(message).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.Status, QueueMessageStatus.Dead)
            .SetProperty(m => m.LeaseOwner, (string?)null)
            .SetProperty(m => m.LeaseUntil, (DateTimeOffset?)null)
            .SetProperty(m => m.LastError, error), cancellationToken);

    // A handler that outlived its lease no longer owns the message; another instance does.
    private IQueryable<QueueMessage> Owned(QueueMessage message) =>
        db.QueueMessages.Where(m => m.Id == message.Id && m.LeaseOwner == message.LeaseOwner);
}
