using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Persistence;

namespace Stratus.Platform.Messaging;

public enum QueueMessageStatus
{
    Pending,
    Done,
    Dead,
}

/// <summary>One delivery of a message to one consuming queue.</summary>
public sealed class QueueMessage
{
    public Guid Id { get; init; }

    public required string Queue { get; init; }

    public required string MessageType { get; init; }

    public required string Body { get; init; }

    /// <summary>The publisher's message id: unique per queue, so a relay that runs twice enqueues once.</summary>
    public Guid SourceMessageId { get; init; }

    public QueueMessageStatus Status { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset VisibleAt { get; set; }

    public string? LeaseOwner { get; set; }

    public DateTimeOffset? LeaseUntil { get; set; }

    public string? LastError { get; set; }

    public DateTimeOffset? HandledAt { get; set; }
}

/// <summary>A queue that wants a message type; the relay fans each published message out to these.</summary>
public sealed class Subscription
{
    public required string Queue { get; init; }

    public required string MessageType { get; init; }

    public DateTimeOffset RegisteredAt { get; init; }
}

/// <summary>Keys every instance shares, created once by whichever instance starts first.</summary>
public sealed class PlatformSecret
{
    public required string Name { get; init; }

    public required string Value { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>The platform's own store: the durable queues, their subscriptions and shared secrets.</summary>
public abstract class PlatformDbContext(DbContextOptions options) : StratusDbContext(options)
{
    public const string SchemaName = "platform";

    public override string Schema => SchemaName;

    public DbSet<QueueMessage> QueueMessages => Set<QueueMessage>();

    public DbSet<Subscription> Subscriptions => Set<Subscription>();

    public DbSet<PlatformSecret> Secrets => Set<PlatformSecret>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<QueueMessage>(q =>
        {
            q.ToTable("queue_messages");
            q.HasKey(m => m.Id);
            q.Property(m => m.Id).HasColumnName("id");
            q.Property(m => m.Queue).HasColumnName("queue").HasMaxLength(100);
            q.Property(m => m.MessageType).HasColumnName("message_type").HasMaxLength(200);
            q.Property(m => m.Body).HasColumnName("body");
            q.Property(m => m.SourceMessageId).HasColumnName("source_message_id");
            q.Property(m => m.Status).HasColumnName("status").HasConversion<string>().HasMaxLength(16);
            q.Property(m => m.Attempts).HasColumnName("attempts");
            q.Property(m => m.CreatedAt).HasColumnName("created_at");
            q.Property(m => m.VisibleAt).HasColumnName("visible_at");
            q.Property(m => m.LeaseOwner).HasColumnName("lease_owner").HasMaxLength(200);
            q.Property(m => m.LeaseUntil).HasColumnName("lease_until");
            q.Property(m => m.LastError).HasColumnName("last_error");
            q.Property(m => m.HandledAt).HasColumnName("handled_at");
            q.HasIndex(m => new { m.Queue, m.SourceMessageId }).IsUnique();
            q.HasIndex(m => new { m.Queue, m.Status, m.VisibleAt });
        });
        modelBuilder.Entity<Subscription>(s =>
        {
            s.ToTable("subscriptions");
            s.HasKey(x => new { x.Queue, x.MessageType });
            s.Property(x => x.Queue).HasMaxLength(100);
            s.Property(x => x.MessageType).HasMaxLength(200);
        });
        modelBuilder.Entity<PlatformSecret>(s =>
        {
            s.ToTable("secrets");
            s.HasKey(x => x.Name);
            s.Property(x => x.Name).HasMaxLength(100);
        });
    }
}

public sealed class SqlitePlatformDbContext(DbContextOptions<SqlitePlatformDbContext> options) : PlatformDbContext(options);

public sealed class PostgresPlatformDbContext(DbContextOptions<PostgresPlatformDbContext> options) : PlatformDbContext(options);
