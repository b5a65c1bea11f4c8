using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using System.Data.Common;

namespace Stratus.Platform.Messaging;

/// <summary>
/// Wakes a polling loop early. Polling alone is correct (other instances write too); the signal only
/// cuts the latency of work that this process produced itself.
/// </summary>
public class WakeSignal
{
    private readonly SemaphoreSlim semaphore = new(0, 1);

    public virtual void Notify()
    {
        try
        {
            semaphore.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled; one wake-up is enough.
        }
    }

    /// <summary>Waits for a signal or the timeout, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        await semaphore.WaitAsync(timeout, cancellationToken);
}

public sealed class OutboxSignal : WakeSignal;

/// <summary>Wakes every queue's loop: each listens with a signal of its own, so that one wake-up is not taken by another.</summary>
public sealed class QueueSignal : WakeSignal
{
    private readonly List<WakeSignal> listeners = [];

    public WakeSignal Listen()
    {
        var listener = new WakeSignal();
        lock (listeners)
        {
            listeners.Add(listener);
        }

        return listener;
    }

    public override void Notify()
    {
        base.Notify();
        lock (listeners)
        {
            foreach (var listener in listeners)
            {
                listener.Notify();
            }
        }
    }
}

/// <summary>Wakes the outbox relay once a transaction that wrote outbox rows has committed.</summary>
internal sealed class OutboxSignalInterceptor(OutboxSignal signal) : DbTransactionInterceptor, ISaveChangesInterceptor
{
    public ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } context && context.Database.CurrentTransaction is null)
        {
            signal.Notify();
        }

        return ValueTask.FromResult(result);
    }

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        signal.Notify();
        return Task.CompletedTask;
    }
}
