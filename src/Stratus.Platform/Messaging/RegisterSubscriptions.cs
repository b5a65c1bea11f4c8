using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Platform.Persistence;

namespace Stratus.Platform.Messaging;

/// <summary>
/// Records, before any relay runs, which queues of this process want which message types, so that no
/// event published after this instance started is missed by it.
/// </summary>
internal sealed class RegisterSubscriptions(IEnumerable<HandlerRegistration> registrations, TimeProvider clock) : IStartupTask
{
    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        foreach (var registration in registrations)
        {
            var exists = await db.Subscriptions.AnyAsync(
                s => s.Queue == registration.Queue && s.MessageType == registration.MessageType, cancellationToken);
            if (exists)
            {
                continue;
            }

            db.Subscriptions.Add(new Subscription { Queue = registration.Queue, MessageType = registration.MessageType, RegisteredAt = clock.GetUtcNow() });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException e) when (!ReadOnlyStore.Refused(e))
            {
                // Another instance registered the same subscription at the same moment: that is the goal.
                db.ChangeTracker.Clear();
            }
        }
    }
}
