using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Stratus.Platform.Messaging;

/// <summary>One message type consumed by one queue, and how to invoke its handler.</summary>
public sealed record HandlerRegistration(
    string Queue,
    string MessageType,
    Func<IServiceProvider, string, MessageContext, CancellationToken, Task> Invoke);

public static class MessageHandlerServiceCollectionExtensions
{
    /// <summary>Subscribes a queue to a message type. The queue is usually the consuming service's name.</summary>
    public static IServiceCollection AddMessageHandler<TMessage, THandler>(this IServiceCollection services, string queue)
        where THandler : class, IMessageHandler<TMessage>
    {
        services.AddScoped<THandler>();
        services.AddSingleton(new HandlerRegistration(queue, MessageNames.Of<TMessage>(), static (provider, body, context, cancellationToken) =>
        {
            var message = JsonSerializer.Deserialize<TMessage>(body, MessageJson.Options)
                ?? throw new JsonException($"The body of {context.MessageId} is null.");
            return provider.GetRequiredService<THandler>().HandleAsync(message, context, cancellationToken);
        }));
        return services;
    }
}
