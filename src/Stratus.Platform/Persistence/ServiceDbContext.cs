using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Stratus.Platform.Messaging;

namespace Stratus.Platform.Persistence;

/// <summary>A store owned by one part of Stratus: its PostgreSQL schema, or its own SQLite file.</summary>
public abstract class StratusDbContext(DbContextOptions options) : DbContext(options)
{
    public abstract string Schema { get; }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        if (Database.IsNpgsql())
        {
            modelBuilder.HasDefaultSchema(Schema);
        }
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        if (Database.IsSqlite())
        {
            // SQLite cannot compare or order DateTimeOffset values; store them as sortable UTC ticks.
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        }
    }
}

/// <summary>
/// The base of every service's own DbContext: the outbox and inbox tables that make its events leave in
/// the same transaction as its state changes, and its handlers take effect once.
/// </summary>
public abstract class ServiceDbContext(DbContextOptions options, TimeProvider clock) : StratusDbContext(options)
{
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    public DbSet<ProcessedMessage> ProcessedMessages => Set<ProcessedMessage>();

    protected TimeProvider Clock => clock;

    /// <summary>Queues an event to publish when this context's changes commit; deliverAt schedules it.</summary>
    public void Publish<TMessage>(TMessage message, DateTimeOffset? deliverAt = null)
        where TMessage : notnull
    {
        OutboxMessages.Add(OutboxMessage.Create(message, clock.GetUtcNow(), deliverAt));
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> (read, check, change, save) again from a clean context when its save loses to
    /// a concurrent change of a row it read (a background pass, a host's report): the checks then see the other
    /// change, and the caller gets an answer instead of a 500. After the last try the conflict is thrown.
    /// </summary>
    public async Task<T> RetryOnConcurrentChangeAsync<T>(Func<Task<T>> attempt, int tries = 5)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        for (var tried = 1; ; tried++)
        {
            try
            {
                return await attempt();
            }
            catch (DbUpdateConcurrencyException) when (tried < tries)
            {
                ChangeTracker.Clear();
            }
        }
    }

    /// <summary>The message whose handler uses this context, set by the queue worker; null outside a handler.</summary>
    internal InboxMark? Inbox { get; set; }

    /// <summary>True when this service already took effect for the message (a redelivery).</summary>
    internal Task<bool> HasProcessedAsync(MessageContext context, CancellationToken cancellationToken) =>
        ProcessedMessages.AnyAsync(p => p.MessageId == context.MessageId && p.Consumer == context.Queue, cancellationToken);

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        var marking = AddInboxMark(Inbox is { InOwnTransaction: true, Message: var message } && ProcessedMessages.Any(p => p.MessageId == message.MessageId && p.Consumer == message.Queue));
        var saved = base.SaveChanges(acceptAllChangesOnSuccess);
        marking?.Saved();
        return saved;
    }

    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        var marking = AddInboxMark(Inbox is { InOwnTransaction: true, Message: var message } && await HasProcessedAsync(message, cancellationToken));
        var saved = await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        marking?.Saved();
        return saved;
    }

    /// <summary>
    /// Adds the inbox record of the message being handled to this save, so that the handler's effect and the record
    /// commit together: to its first save, or, for a handler whose effect is a transaction of its own, to the first
    /// save inside a transaction. Added again after a failed save whose changes were cleared (a retried conflict).
    /// </summary>
    /// <param name="recordedMeanwhile">A long handler's message, recorded by a redelivery that ran meanwhile (one in
    /// its own transaction, which asks inside that transaction).</param>
    private InboxMark? AddInboxMark(bool recordedMeanwhile)
    {
        if (Inbox is not { IsSaved: false } inbox || (inbox.InOwnTransaction && Database.CurrentTransaction is null))
        {
            return null;
        }

        if (recordedMeanwhile)
        {
            return inbox;
        }

        var context = inbox.Message;
        if (!ChangeTracker.Entries<ProcessedMessage>().Any(e => e.Entity.MessageId == context.MessageId && e.Entity.Consumer == context.Queue))
        {
            ProcessedMessages.Add(new ProcessedMessage { MessageId = context.MessageId, Consumer = context.Queue, ProcessedAt = clock.GetUtcNow() });
        }

        return inbox;
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.ApplyConfiguration(new OutboxMessageConfiguration());
        modelBuilder.ApplyConfiguration(new ProcessedMessageConfiguration());
    }
}
