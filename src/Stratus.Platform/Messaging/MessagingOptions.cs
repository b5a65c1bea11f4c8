namespace Stratus.Platform.Messaging;

public sealed class MessagingOptions
{
    /// <summary>Deliveries before a message goes to the dead letters.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>How often idle loops look for work that other instances produced.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long a claimed message stays invisible to other instances; renewed while it is handled. A message
    /// claimed by an instance that died is handled by another after at most this long.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a handled queue message is kept (for an operator's look) before it is deleted.</summary>
    public TimeSpan HandledMessageRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How long a relayed outbox row is kept; a relay marks a row within seconds of enqueuing it.</summary>
    public TimeSpan RelayedOutboxRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// How long an inbox record is kept: far longer than any redelivery can come (a lease runs out in seconds, retries
    /// end within half an hour).
    /// </summary>
    public TimeSpan InboxRetention { get; set; } = TimeSpan.FromDays(7);

    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Rows deleted per statement by the retention jobs.</summary>
    public int RetentionBatchSize { get; set; } = 1000;

    /// <summary>An outbox relay that completes no pass for this long (losing every race) makes /readyz fail.</summary>
    public TimeSpan RelayStalledAfter { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The most messages one claim takes; a queue claims no more than it has free handlers.</summary>
    public int BatchSize { get; set; } = 20;

    /// <summary>Messages of one queue handled at once in one process, unless <see cref="Queues"/> says otherwise.</summary>
    public int Concurrency { get; set; } = 4;

    /// <summary>
    /// How long a handler may run before its token is cancelled and its message retried (or dead-lettered), unless
    /// <see cref="Queues"/> or <see cref="HandlerTimeouts"/> says otherwise. Long work belongs in a job that reports
    /// progress, not in a handler.
    /// </summary>
    public TimeSpan HandlerTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Per queue (Stratus:Messaging:Queues:NAME:Concurrency, ...:HandlerTimeout).</summary>
    public Dictionary<string, QueueOptions> Queues { get; } = new(StringComparer.Ordinal);

    /// <summary>Per message type (Stratus:Messaging:HandlerTimeouts:images.deviceImageContentUploaded.v1 = 00:30:00).</summary>
    public Dictionary<string, TimeSpan> HandlerTimeouts { get; } = new(StringComparer.Ordinal);

    public int ConcurrencyOf(string queue) =>
        Math.Max(1, Queues.TryGetValue(queue, out var options) && options.Concurrency is { } concurrency ? concurrency : Concurrency);

    /// <summary>The message type's configured timeout, else the handler's own, else its queue's, else the default.</summary>
    public TimeSpan HandlerTimeoutOf(string queue, string messageType, TimeSpan? handlers = null) =>
        HandlerTimeouts.TryGetValue(messageType, out var byType) ? byType
        : handlers is { } own ? own
        : Queues.TryGetValue(queue, out var options) && options.HandlerTimeout is { } byQueue ? byQueue
        : HandlerTimeout;

    /// <summary>Exponential backoff with ±20 % jitter, so that instances that failed together retry apart.</summary>
    public TimeSpan RetryDelay(int attempt)
    {
        var exponent = Math.Clamp(attempt - 1, 0, 20);
        var delay = FirstRetryDelay.TotalMilliseconds * Math.Pow(2, exponent);
        delay = Math.Min(delay, MaxRetryDelay.TotalMilliseconds);
#pragma warning disable CA5394 // Jitter needs no cryptographic randomness.
        var jitter = 0.8 + (Random.Shared.NextDouble() * 0.4);
#pragma warning restore CA5394
        return TimeSpan.FromMilliseconds(delay * jitter);
    }
}

public sealed class QueueOptions
{
    public int? Concurrency { get; set; }

    public TimeSpan? HandlerTimeout { get; set; }
}
