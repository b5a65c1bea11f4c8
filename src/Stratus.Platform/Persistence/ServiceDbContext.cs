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

    /// <summary>True when this service already took effect for the message (a redelivery).</summary>
    public Task<bool> HasProcessedAsync(MessageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ProcessedMessages.AnyAsync(p => p.MessageId == context.MessageId && p.Consumer == context.Queue, cancellationToken);
    }

    /// <summary>Records in this transaction that the message took effect, so a redelivery is a no-op.</summary>
    public void MarkProcessed(MessageContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ProcessedMessages.Add(new ProcessedMessage { MessageId = context.MessageId, Consumer = context.Queue, ProcessedAt = clock.GetUtcNow() });
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.ApplyConfiguration(new OutboxMessageConfiguration());
        modelBuilder.ApplyConfiguration(new ProcessedMessageConfiguration());
    }
}
