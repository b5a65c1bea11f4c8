namespace Stratus.Platform.Messaging;

/// <summary>What a handler knows about the delivery it is handling.</summary>
/// <param name="MessageId">The id the publisher gave the message; the same on every redelivery.</param>
/// <param name="Queue">The consuming queue, which is also the consumer's name in its inbox.</param>
/// <param name="Attempt">1 on the first delivery.</param>
public sealed record MessageContext(Guid MessageId, string Queue, int Attempt);

/// <summary>Handles one message type for one queue. Must be idempotent: delivery is at least once.</summary>
public interface IMessageHandler<in TMessage>
{
    Task HandleAsync(TMessage message, MessageContext context, CancellationToken cancellationToken);
}
