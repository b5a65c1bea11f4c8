using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Platform.Persistence;

namespace Stratus.Platform.Messaging;

/// <summary>One message type consumed by one queue, and how to invoke its handler.</summary>
/// <param name="Invoke">Runs the handler in the given scope; false when the inbox says the message already took effect.</param>
public sealed record HandlerRegistration(
    string Queue,
    string MessageType,
    Type Store,
    Func<IServiceProvider, string, MessageContext, CancellationToken, Task<bool>> Invoke)
{
    /// <summary>The handler's own timeout, for a handler known to run long; configuration still overrides it.</summary>
    public TimeSpan? Timeout { get; init; }
}

public static class MessageHandlerServiceCollectionExtensions
{
    /// <summary>
    /// Subscribes a queue to a message type. The queue is usually the consuming service's name. The handler's store
    /// is the <see cref="ServiceDbContext"/> its constructor takes; the worker keeps that store's inbox for it.
    /// </summary>
    public static IServiceCollection AddMessageHandler<TMessage, THandler>(this IServiceCollection services, string queue, TimeSpan? handlerTimeout = null)
        where THandler : class, IMessageHandler<TMessage>
    {
        var stores = typeof(THandler).GetConstructors()
            .SelectMany(c => c.GetParameters())
            .Select(p => p.ParameterType)
            .Where(t => t.IsAssignableTo(typeof(ServiceDbContext)))
            .Distinct()
            .ToList();
        if (stores.Count != 1)
        {
            throw new InvalidOperationException(
                $"{typeof(THandler).Name} takes {stores.Count} service stores; name the one whose inbox records its messages with AddMessageHandler<TMessage, THandler, TContext>.");
        }

        var register = typeof(MessageHandlerServiceCollectionExtensions).GetMethod(nameof(Register), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(typeof(TMessage), typeof(THandler), stores[0]);
        register.Invoke(null, [services, queue, handlerTimeout]);
        return services;
    }

    /// <summary>Subscribes a queue to a message type, with the store whose inbox records the handler's messages.</summary>
    public static IServiceCollection AddMessageHandler<TMessage, THandler, TContext>(this IServiceCollection services, string queue, TimeSpan? handlerTimeout = null)
        where THandler : class, IMessageHandler<TMessage>
        where TContext : ServiceDbContext
    {
        Register<TMessage, THandler, TContext>(services, queue, handlerTimeout);
        return services;
    }

    private static void Register<TMessage, THandler, TContext>(IServiceCollection services, string queue, TimeSpan? handlerTimeout)
        where THandler : class, IMessageHandler<TMessage>
        where TContext : ServiceDbContext
    {
        var inOwnTransaction = typeof(THandler).GetCustomAttribute<EffectInOwnTransactionAttribute>() is not null;
        services.AddScoped<THandler>();
        services.AddSingleton(new HandlerRegistration(queue, MessageNames.Of<TMessage>(), typeof(TContext), async (provider, body, context, cancellationToken) =>
        {
            var message = JsonSerializer.Deserialize<TMessage>(body, MessageJson.Options)
                ?? throw new JsonException($"The body of {context.MessageId} is null.");

            // The inbox, for every handler: skip a message that already took effect, and record this one in the
            // transaction of the handler's effect (ServiceDbContext adds the record to the handler's save).
            var store = provider.GetRequiredService<TContext>();
            if (await store.HasProcessedAsync(context, cancellationToken))
            {
                return false;
            }

            var inbox = new InboxMark(context, inOwnTransaction);
            store.Inbox = inbox;
            await provider.GetRequiredService<THandler>().HandleAsync(message, context, cancellationToken);
            if (!inbox.IsSaved)
            {
                // The handler saved nothing (or nothing in its transaction): record the message on its own. Its
                // unsaved changes, if it left any, are not the worker's to save.
                store.ChangeTracker.Clear();
                store.Inbox = new InboxMark(context, inOwnTransaction: false);
                await store.SaveChangesAsync(cancellationToken);
            }

            return true;
        })
        {
            Timeout = handlerTimeout,
        });
    }
}
