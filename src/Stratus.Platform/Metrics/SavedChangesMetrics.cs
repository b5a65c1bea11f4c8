using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Stratus.Platform.Metrics;

/// <summary>
/// Counts changes of state (an operation that ended, a Cloud PC provisioned) from the change tracker as a save runs, so
/// that a service counts its outcomes without a call at every place that sets them. What it collects is recorded
/// only once the save succeeded.
/// </summary>
public interface ISavedChangesMetrics
{
    /// <summary>Looks at the entries about to be saved; returns what to record once they are, or null.</summary>
    Action? Collect(ChangeTracker changes);
}

/// <summary>Runs every <see cref="ISavedChangesMetrics"/> on every store's saves (added to each store by AddStore).</summary>
internal sealed class SavedChangesMetricsInterceptor(IEnumerable<ISavedChangesMetrics> collectors) : SaveChangesInterceptor
{
    private readonly ISavedChangesMetrics[] collectors = collectors.ToArray();
    private readonly ConditionalWeakTable<DbContext, List<Action>> pending = [];

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Collect(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Collect(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Record(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Record(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => Forget(eventData.Context);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    public override void SaveChangesCanceled(DbContextEventData eventData) => Forget(eventData.Context);

    public override Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    private void Collect(DbContext? context)
    {
        if (context is null || collectors.Length == 0)
        {
            return;
        }

        var actions = collectors.Select(c => c.Collect(context.ChangeTracker)).OfType<Action>().ToList();
        if (actions.Count > 0)
        {
            pending.AddOrUpdate(context, actions);
        }
    }

    private void Record(DbContext? context)
    {
        if (context is not null && pending.TryGetValue(context, out var actions))
        {
            pending.Remove(context);
            foreach (var action in actions)
            {
                action();
            }
        }
    }

    private void Forget(DbContext? context)
    {
        if (context is not null)
        {
            pending.Remove(context);
        }
    }
}
