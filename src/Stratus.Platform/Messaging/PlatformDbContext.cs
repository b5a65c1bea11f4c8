using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;
using Stratus.Platform.Idempotency;
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

/// <summary>The platform's own store: the durable queues, their subscriptions, shared secrets and idempotency keys.</summary>
public abstract class PlatformDbContext(DbContextOptions options) : StratusDbContext(options)
{
    public const string SchemaName = "platform";

    public override string Schema => SchemaName;

    public DbSet<QueueMessage> QueueMessages => Set<QueueMessage>();

    public DbSet<Subscription> Subscriptions => Set<Subscription>();

    public DbSet<PlatformSecret> Secrets => Set<PlatformSecret>();

    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();

    protected override void OnConfiguring(DbContextOptionsBuilder optionsBuilder)
    {
        ArgumentNullException.ThrowIfNull(optionsBuilder);

        // A failed SaveChanges reaches its caller, which expects the unique key to refuse some inserts (a second
        // reservation of an Idempotency-Key, a secret another instance created first) and logs the rest; EF's own
        // error line for each, stack trace and all, would only alarm.
        optionsBuilder.ConfigureWarnings(warnings => warnings.Log((CoreEventId.SaveChangesFailed, LogLevel.Debug)));
    }

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
        modelBuilder.Entity<IdempotencyRecord>(r =>
        {
            r.ToTable("idempotency_records");

            // The key: reserving is an INSERT that this refuses when the caller used the key before.
            r.HasKey(x => new { x.Scope, x.Key });
            r.Property(x => x.Scope).HasColumnName("scope").HasMaxLength(200);
            r.Property(x => x.Key).HasColumnName("key").HasMaxLength(128);
            r.Property(x => x.Fingerprint).HasColumnName("fingerprint").HasMaxLength(64);
            r.Property(x => x.RequestMethod).HasColumnName("request_method").HasMaxLength(16);
            r.Property(x => x.RequestPath).HasColumnName("request_path");
            r.Property(x => x.State).HasColumnName("state").HasConversion<string>().HasMaxLength(16);
            r.Property(x => x.LeaseOwner).HasColumnName("lease_owner");
            r.Property(x => x.LeaseUntil).HasColumnName("lease_until");
            r.Property(x => x.CreatedAt).HasColumnName("created_at");
            r.Property(x => x.CompletedAt).HasColumnName("completed_at");
            r.Property(x => x.ResponseStatus).HasColumnName("response_status");
            r.Property(x => x.ResponseContentType).HasColumnName("response_content_type").HasMaxLength(256);
            r.Property(x => x.ResponseLocation).HasColumnName("response_location");
            r.Property(x => x.ResponseBody).HasColumnName("response_body");
            r.HasIndex(x => x.CreatedAt);
        });
    }
}

public sealed class SqlitePlatformDbContext(DbContextOptions<SqlitePlatformDbContext> options) : PlatformDbContext(options);

public sealed class PostgresPlatformDbContext(DbContextOptions<PostgresPlatformDbContext> options) : PlatformDbContext(options);
