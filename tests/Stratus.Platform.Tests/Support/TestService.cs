using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;

namespace Stratus.Platform.Tests.Support;

/// <summary>
/// A service that exists only in these tests: its own store with the outbox and inbox, a state table, and
/// a table of the effects its handlers had. Its tables have no migrations; MessagingHost creates them.
/// </summary>
public abstract class TestDbContext(DbContextOptions options, TimeProvider clock) : ServiceDbContext(options, clock)
{
    public const string SchemaName = "testsvc";

    public override string Schema => SchemaName;

    public DbSet<Item> Items => Set<Item>();

    public DbSet<HandledItem> HandledItems => Set<HandledItem>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<Item>(item =>
        {
            item.ToTable("items");
            item.HasKey(i => i.Id);
            item.Property(i => i.Name).HasMaxLength(100);
        });

        // No unique key on (queue, item): a handler that applied its effect twice must show as two rows.
        modelBuilder.Entity<HandledItem>(handled =>
        {
            handled.ToTable("handled_items");
            handled.HasKey(h => h.Id);
            handled.Property(h => h.Queue).HasMaxLength(100);
        });
    }
}

public sealed class SqliteTestDbContext(DbContextOptions<SqliteTestDbContext> options, TimeProvider clock) : TestDbContext(options, clock);

public sealed class PostgresTestDbContext(DbContextOptions<PostgresTestDbContext> options, TimeProvider clock) : TestDbContext(options, clock);

public sealed class Item
{
    public Guid Id { get; init; }

    public required string Name { get; init; }
}

/// <summary>One effect of a handler: the item it saw, on which queue, from which message.</summary>
public sealed class HandledItem
{
    public Guid Id { get; init; }

    public Guid ItemId { get; init; }

    public required string Queue { get; init; }

    public Guid MessageId { get; init; }
}

[MessageName("testsvc.itemCreated.v1")]
public sealed record ItemCreated(Guid ItemId, string Name);

/// <summary>Handled by a handler that fails while its FailureSwitch is on.</summary>
[MessageName("testsvc.flakyWork.v1")]
public sealed record FlakyWork(Guid ItemId);

/// <summary>Handled slowly, for batches that outlast their lease.</summary>
[MessageName("testsvc.slowWork.v1")]
public sealed record SlowWork(Guid ItemId, TimeSpan? Duration = null);

/// <summary>Saves its effect and then fails on its first attempt, in a transaction of its own or not.</summary>
[MessageName("testsvc.failAfterSave.v1")]
public sealed record FailAfterSave(Guid ItemId, bool InTransaction);

public sealed record Delivery(Guid ItemId, MessageContext Context, DateTimeOffset At);

/// <summary>Every call of a handler in one host, effect or not.</summary>
public sealed class DeliveryLog
{
    private readonly ConcurrentQueue<Delivery> deliveries = new();

    public void Record(Guid itemId, MessageContext context, DateTimeOffset at) => deliveries.Enqueue(new Delivery(itemId, context, at));

    public IReadOnlyList<Delivery> All => deliveries.ToArray();

    public IReadOnlyList<Delivery> For(Guid itemId) => deliveries.Where(d => d.ItemId == itemId).ToList();
}

public sealed class FailureSwitch
{
    private volatile bool failing = true;

    public bool Failing
    {
        get => failing;
        set => failing = value;
    }
}

/// <summary>Records an item per queue, as a real service's handler does; the worker keeps the inbox for it.</summary>
internal sealed class ItemCreatedHandler(TestDbContext db, DeliveryLog log, TimeProvider clock) : IMessageHandler<ItemCreated>
{
    public async Task HandleAsync(ItemCreated message, MessageContext context, CancellationToken cancellationToken)
    {
        log.Record(message.ItemId, context, clock.GetUtcNow());
        db.HandledItems.Add(new HandledItem { Id = Guid.NewGuid(), ItemId = message.ItemId, Queue = context.Queue, MessageId = context.MessageId });
        await db.SaveChangesAsync(cancellationToken);
    }
}

internal sealed class FlakyWorkHandler(TestDbContext db, DeliveryLog log, FailureSwitch failures, TimeProvider clock) : IMessageHandler<FlakyWork>
{
    public async Task HandleAsync(FlakyWork message, MessageContext context, CancellationToken cancellationToken)
    {
        log.Record(message.ItemId, context, clock.GetUtcNow());
        if (failures.Failing)
        {
            throw new InvalidOperationException($"flaky failure on attempt {context.Attempt}");
        }

        db.HandledItems.Add(new HandledItem { Id = Guid.NewGuid(), ItemId = message.ItemId, Queue = context.Queue, MessageId = context.MessageId });
        await db.SaveChangesAsync(cancellationToken);
    }
}

internal sealed class SlowWorkHandler(DeliveryLog log, TimeProvider clock) : IMessageHandler<SlowWork>
{
    public static readonly TimeSpan Duration = TimeSpan.FromMilliseconds(300);

    public async Task HandleAsync(SlowWork message, MessageContext context, CancellationToken cancellationToken)
    {
        log.Record(message.ItemId, context, clock.GetUtcNow());
        await Task.Delay(message.Duration ?? Duration, cancellationToken);
    }
}

internal sealed class FailAfterSaveHandler(TestDbContext db, DeliveryLog log, TimeProvider clock) : IMessageHandler<FailAfterSave>
{
    public async Task HandleAsync(FailAfterSave message, MessageContext context, CancellationToken cancellationToken)
    {
        log.Record(message.ItemId, context, clock.GetUtcNow());
        await using var transaction = message.InTransaction ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        db.HandledItems.Add(new HandledItem { Id = Guid.NewGuid(), ItemId = message.ItemId, Queue = context.Queue, MessageId = context.MessageId });
        await db.SaveChangesAsync(cancellationToken);
        if (context.Attempt == 1)
        {
            throw new InvalidOperationException("failed after saving");
        }

        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }
    }
}
