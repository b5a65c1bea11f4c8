using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Stratus.Platform.Messaging;

/// <summary>An event written in the same transaction as the state change that caused it.</summary>
public sealed class OutboxMessage
{
    public Guid Id { get; init; }

    public required string MessageType { get; init; }

    public required string Body { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When consumers may see it; null for at once.</summary>
    public DateTimeOffset? DeliverAt { get; init; }

    public DateTimeOffset? DispatchedAt { get; set; }

    public static OutboxMessage Create<TMessage>(TMessage message, DateTimeOffset now, DateTimeOffset? deliverAt)
        where TMessage : notnull => new()
        {
            Id = Guid.CreateVersion7(now),
            MessageType = MessageNames.Of(message.GetType()),
            Body = JsonSerializer.Serialize(message, message.GetType(), MessageJson.Options),
            CreatedAt = now,
            DeliverAt = deliverAt,
        };
}

/// <summary>Inbox: which messages a consumer already applied, written in the transaction of its effect.</summary>
public sealed class ProcessedMessage
{
    public Guid MessageId { get; init; }

    public required string Consumer { get; init; }

    public DateTimeOffset ProcessedAt { get; init; }
}

internal sealed class OutboxMessageConfiguration : IEntityTypeConfiguration<OutboxMessage>
{
    public void Configure(EntityTypeBuilder<OutboxMessage> builder)
    {
        builder.ToTable("outbox_messages");
        builder.HasKey(m => m.Id);
        builder.Property(m => m.MessageType).HasMaxLength(200);
        builder.HasIndex(m => new { m.DispatchedAt, m.CreatedAt });
    }
}

internal sealed class ProcessedMessageConfiguration : IEntityTypeConfiguration<ProcessedMessage>
{
    public void Configure(EntityTypeBuilder<ProcessedMessage> builder)
    {
        builder.ToTable("processed_messages");
        builder.HasKey(m => new { m.Consumer, m.MessageId });
        builder.Property(m => m.Consumer).HasMaxLength(100);
    }
}
